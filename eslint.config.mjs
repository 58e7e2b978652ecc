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
      }],
      // `void promise` marks a deliberate fire-and-forget call (its errors are handled inside)
      'no-void': 'off',
      // tests and fixtures hold source code with a literal `${...}` on purpose
      'no-template-curly-in-string': 'off',
      // `for (const _ of it) return/throw/break` is how we look at an (async) iterator's first entry
      'no-unreachable-loop': 'off'
    }
  },
  {
    files: ['**/*.ts'],
    rules: {
      // as neostandard, plus: a binding named `_` (or `_x`) is unused on purpose
      '@typescript-eslint/no-unused-vars': ['error', {
        args: 'none',
        caughtErrors: 'none',
        ignoreRestSiblings: true,
        vars: 'all',
        varsIgnorePattern: '^_'
      }]
    }
  },
  {
    // an ambient module declaration's functions are types, not unused values
    files: ['**/*.d.ts'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' }
  },
  {
    // the web UI's script runs in the browser
    files: ['node/ui/static/**/*.js'],
    languageOptions: {
      globals: { Node: 'readonly', EventSource: 'readonly', history: 'readonly', location: 'readonly' }
    }
  }
]
