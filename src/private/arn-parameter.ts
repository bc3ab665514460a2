import { Annotations, Token } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, IConstruct } from 'constructs';
import { sharedEnvironment } from './environments';
import { InvalidPropsError } from './invalid-props';

/**
 * What a published parameter records about itself, under a `Symbol.for` key so that two copies of
 * this library in one app (a construct library of the user's that depends on another version)
 * still see each other's parameters.
 */
const PUBLISHED = Symbol.for('cdk-ec2-reset-access.published-arn-parameter');

interface Published {
  /** The parameter name as given (the parameter's own `parameterName` is a CloudFormation reference). */
  readonly name: string;
  /** The construct that publishes it (`ResetAccess`, `FleetReset`), named in the error. */
  readonly owner: IConstruct;
}

/** A state machine ARN to publish, and how the owner lets its user rename the parameter. */
export interface ArnParameterOptions {
  /** The SSM parameter name. */
  readonly name: string;
  /** The state machine's ARN. */
  readonly value: string;
  readonly description: string;
  /** The prop of the owner that names the parameter, for the error message (`stateMachineArnParameterName`). */
  readonly nameProp: string;
  /** The CLI option that reads another name, for the error message (`--state-machine-parameter`). */
  readonly cliOption: string;
}

/**
 * Writes a state machine's ARN to an SSM String parameter (a standard parameter: free), so that
 * tools find the state machine without knowing the stack, after checking that no other construct
 * of the app publishes the same name in the same account and Region.
 *
 * A parameter name exists once per account and Region: a second deployment that writes it fails
 * (two stacks), or CloudFormation rejects the template (one stack). Found here, at synth, across
 * the whole app and whatever construct publishes it; a stack without a known account and Region
 * can only be warned about. A parameter counts once it exists, so an owner whose constructor
 * threw before is never a rival.
 */
export function publishStateMachineArn(owner: Construct, id: string, options: ArnParameterOptions): ssm.StringParameter {
  checkNameIsFree(owner, options);
  const parameter = new ssm.StringParameter(owner, id, {
    parameterName: options.name,
    stringValue: options.value,
    description: options.description,
  });
  const published: Published = { name: options.name, owner };
  Object.defineProperty(parameter, PUBLISHED, { value: published });
  return parameter;
}

function checkNameIsFree(owner: Construct, options: ArnParameterOptions): void {
  const name = options.name;
  if (Token.isUnresolved(name)) return;
  const kind = owner.constructor.name;
  const change = `Give one of them another \`${options.nameProp}\` (the CLI then takes ${options.cliOption} <name>).`;
  for (const other of owner.node.root.node.findAll()) {
    const published = (other as { [PUBLISHED]?: Published })[PUBLISHED];
    if (!published || published.name !== name) continue;
    const environment = sharedEnvironment(owner, other);
    if (environment === 'same') {
      throw new InvalidPropsError('StateMachineArnParameterCollision',
        `${kind}: ${published.owner.node.path} already writes the SSM parameter ${name} in this account and Region, ` +
        `and a parameter name exists once per account and Region. ${change}`);
    }
    if (environment === 'unknown') {
      Annotations.of(owner).addWarningV2('cdk-ec2-reset-access:stateMachineArnParameterCollision',
        `${published.owner.node.path} also writes the SSM parameter ${name}; deployed to the same account and Region, ` +
        `the second deployment fails. ${change}`);
    }
  }
}
