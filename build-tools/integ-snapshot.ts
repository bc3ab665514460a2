/**
 * Compares a freshly synthesized integration test app with its committed snapshot, offline.
 *
 *   ts-node --transpile-only build-tools/integ-snapshot.ts <snapshot dir> <synthesized dir>
 *
 * Compared: every CloudFormation template, every asset manifest and the integ manifest
 * (`integ.json`), in both directions: a file missing from either side fails, so deleting a
 * snapshot file fails the test task. Masked: asset hashes (64 hex digits), as integ-runner does
 * with `diffAssets: false` (a handler edit changes its bundle's hash, not what is deployed around
 * it), and the `salt` integ-tests-alpha gives every API call (the synthesis time). Not compared: assets themselves, tree.json, *.metadata.json and the synthesis
 * reports (timings), which say nothing about what is deployed.
 *
 * Exit 0 when equal; 1 with the first differing lines of each file and the command that
 * refreshes the snapshot otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Files of a cloud assembly that describe what is deployed. */
export const COMPARED = /^(.+\.template\.json|.+\.assets\.json|integ\.json)$/;

/** What changes from one synthesis to the next without changing what is deployed. */
const VOLATILE: [RegExp, string][] = [
  // Asset hashes, and the destination ids derived from them.
  [/[0-9a-f]{64}/g, '<asset hash>'],
  [/"current_account-current_region(-[0-9a-f]{8})?"/g, '"<asset destination>"'],
  // integ-tests-alpha salts every API call with the synthesis time so that it runs on each deployment.
  [/"salt": "\d+"/g, '"salt": "<synthesis time>"'],
];

/** The compared files of an assembly directory, by relative path (nested assemblies included). */
export function comparedFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const relPath = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('asset.')) walk(relPath);
      } else if (COMPARED.test(entry.name)) {
        found.push(relPath);
      }
    }
  };
  walk('');
  return found.sort();
}

/** A file's text with JSON normalized and the volatile values masked. */
export function normalized(text: string): string {
  return VOLATILE.reduce((s, [pattern, mask]) => s.replace(pattern, mask), JSON.stringify(JSON.parse(text), undefined, 1));
}

/** Lines describing each difference between two assembly directories; empty when they match. */
export function differences(snapshotDir: string, actualDir: string): string[] {
  const expected = comparedFiles(snapshotDir);
  const actual = comparedFiles(actualDir);
  const problems: string[] = [];
  for (const file of expected.filter(f => !actual.includes(f))) {
    problems.push(`${file}: in the snapshot, no longer synthesized`);
  }
  for (const file of actual.filter(f => !expected.includes(f))) {
    problems.push(`${file}: synthesized, missing from the snapshot`);
  }
  for (const file of expected.filter(f => actual.includes(f))) {
    const a = normalized(fs.readFileSync(path.join(snapshotDir, file), 'utf8')).split('\n');
    const b = normalized(fs.readFileSync(path.join(actualDir, file), 'utf8')).split('\n');
    const first = a.findIndex((line, i) => line !== b[i]);
    if (first === -1 && a.length === b.length) continue;
    const at = first === -1 ? Math.min(a.length, b.length) : first;
    problems.push(`${file}: differs from line ${at + 1} of the normalized JSON`,
      ...a.slice(Math.max(0, at - 2), at + 4).map(l => `  - ${l}`),
      ...b.slice(Math.max(0, at - 2), at + 4).map(l => `  + ${l}`));
  }
  return problems;
}

function main(argv: string[]): number {
  const [snapshotDir, actualDir] = argv;
  if (!snapshotDir || !actualDir) {
    console.error('usage: integ-snapshot.ts <snapshot dir> <synthesized dir>');
    return 2;
  }
  if (!fs.existsSync(snapshotDir) || comparedFiles(snapshotDir).length === 0) {
    console.error(`No snapshot in ${snapshotDir}: run \`npx projen integ:snapshot-all\` and commit it.`);
    return 1;
  }
  const problems = differences(snapshotDir, actualDir);
  if (problems.length > 0) {
    console.error(`The integration test app no longer matches its snapshot ${snapshotDir}:`);
    for (const line of problems) console.error(line);
    console.error('If the change is intended, run `npx projen integ:snapshot-all` and commit the snapshot.');
    return 1;
  }
  console.log(`${snapshotDir}: ${comparedFiles(snapshotDir).length} files match the synthesized app (asset hashes masked).`);
  return 0;
}

if (require.main === module) {
  process.exit(main(process.argv.slice(2)));
}
