import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * API.md is the user manual jsii-docgen writes from the doc comments (`npx projen docgen`, run by
 * the build before the tests). jsii-docgen renders Markdown but not TSDoc's inline `{@link X}`,
 * which it prints as raw text: doc comments link with Markdown to the anchors it writes instead.
 */
const API = readFileSync(join(__dirname, '..', '..', 'API.md'), 'utf8');

describe('API.md', () => {
  test('shows no raw {@link ...} text', () => {
    const raw = API.split('\n').filter(line => line.includes('{@link'));
    expect(raw).toEqual([]);
  });

  test('every link to an API element lands on an anchor jsii-docgen wrote', () => {
    // GIVEN
    const anchors = new Set([...API.matchAll(/ id="([^"]+)"/g)].map(m => m[1]));
    const linkTargets = (pattern: RegExp) => [...API.matchAll(pattern)].map(m => m[1]);
    // Markdown links from the doc comments, and the HTML links jsii-docgen writes itself.
    const fromComments = linkTargets(/\]\(#(cdk-ec2-reset-access\.[^)]+)\)/g);
    const targets = [...new Set([...fromComments, ...linkTargets(/href="#([^"]+)"/g)])];

    // THEN
    expect(fromComments.length).toBeGreaterThan(0);
    expect(targets.filter(target => !anchors.has(target))).toEqual([]);
  });
});
