// The secret scanner as one lazily loaded file (dist/secretlint.js): src/ops/secrets.ts requires it only
// when a text holds a keyword. One CommonJS file loads in a third of the time of the packages' ES modules.
export { lintSource } from '@secretlint/core';
export { creator } from '@secretlint/secretlint-rule-preset-recommend';
