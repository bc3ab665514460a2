// Jest transform for text assets (the step handlers' .ps1 scripts): the module's default export is
// the file's text, as esbuild's `text` loader makes it in the Lambda bundles.
module.exports = {
  process(sourceText) {
    return { code: `module.exports = ${JSON.stringify(sourceText)};` };
  },
};
