// ESLint flat config: neostandard (the maintained successor of `standard`) plus a
// 120-character line limit. `npm run lint` checks; `npx eslint --fix .` formats.
import neostandard from 'neostandard'

export default [
  {
    // build output, installed packages and what the tools write at run time
    ignores: [
      'dist/**',
      'node_modules/**',
      '.mutants/**',
      'sim-out/**',
      'bench/out/**',
      'test-artifacts/**',
      'tmp/**'
    ]
  },
  ...neostandard({ ts: true }),
  {
    rules: {
      // long messages and URLs stay on one line so that they can be grepped
      '@stylistic/max-len': ['error', {
        code: 120,
        ignoreUrls: true,
        ignoreStrings: true,
        ignoreTemplateLiterals: true,
        ignoreRegExpLiterals: true
      }]
    }
  }
]
