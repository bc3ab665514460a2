import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Runs cdk-nag's AwsSolutions pack over every stack of the app and returns the
 * unacknowledged findings as readable lines (`<path>: <rule id>: <message>`).
 *
 * cdk-nag 3 reports through aws-cdk-lib's policy validation, so findings surface as
 * an error thrown by `app.synth()`; the error's report is parsed into lines here so a
 * failing test lists exactly what to fix or acknowledge.
 */
export function awsSolutionsFindings(app: App): string[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth({ force: true });
    return [];
  } catch (error) {
    const findings = parseReport(error instanceof Error ? error.message : String(error));
    // A synth failure that is not a nag report must not pass as "no findings".
    if (findings.length === 0) throw error;
    return findings;
  }
}

/**
 * Builds a fresh app, lets `define` add constructs to a stack in it, and returns the
 * AwsSolutions findings. Synthesizing an app twice is not allowed, so nag runs on an
 * app of its own rather than the one a test asserts on.
 */
export function awsSolutionsFindingsFor(define: (stack: Stack) => void, stackProps?: { env?: { account: string; region: string } }): string[] {
  const app = new App();
  const stack = new Stack(app, 'NagStack', stackProps);
  define(stack);
  return awsSolutionsFindings(app);
}

/**
 * The report is a series of blocks:
 *   ERROR <rule message> (AwsSolutions)
 *      <construct path> <construct type>
 *      Acknowledge with 'AwsSolutions::<finding id>'
 */
function parseReport(report: string): string[] {
  const findings: string[] = [];
  const lines = report.split('\n').map(line => line.trim());
  lines.forEach((line, index) => {
    const ack = /^Acknowledge with 'AwsSolutions::(.+)'$/.exec(line);
    if (!ack) return;
    const path = (lines[index - 1] ?? '').split(' ')[0];
    const message = (lines[index - 2] ?? '').replace(/^(ERROR|WARN\w*)\s+/, '');
    findings.push(`${path}: ${ack[1]}: ${message}`);
  });
  return findings;
}
