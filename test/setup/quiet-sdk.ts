/**
 * On Node.js 20 the AWS SDK prints, once per process, that its releases after January 2027 need
 * Node.js 22. The tests create SDK clients in-process (handlers, the CLI against mocks), so every
 * jest worker would print it: expected, and not about the test. The SDK's own switch turns it off.
 * The packaged CLI silences it by itself (test/cli/bundle.test.ts runs it without this).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
