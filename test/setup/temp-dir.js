/**
 * Jest globalSetup and globalTeardown: one temporary directory per test run, removed at its end.
 *
 * Every `App` without an `outdir` synthesizes into a new `cdk.out*` directory under the system
 * temporary directory, Lambda bundles included (up to 25 MB each), and never removes it: a full
 * run left about 2 GB behind, and parallel runs filled the disk. Pointing TMPDIR at a directory
 * of this run (the workers inherit it; os.tmpdir() reads it on every call) keeps all of that in
 * one place that the teardown removes.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PREFIX = 'cdk-ec2-reset-access-jest-';

async function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  process.env.TMPDIR = dir;
}

async function teardown() {
  const dir = process.env.TMPDIR;
  // Only the directory setup made: never a TMPDIR the caller set.
  if (dir && path.basename(dir).startsWith(PREFIX)) fs.rmSync(dir, { recursive: true, force: true });
}

module.exports = { setup, teardown };
