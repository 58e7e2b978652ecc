#!/usr/bin/env node
// Node >= 22.1 keeps compiled code between runs (in the OS temp directory): a shorter start for
// every command. It must be on before the CLI's modules load, hence the dynamic imports below.
// Node 20 has no such cache; there this line does nothing.
import module from 'node:module'
module.enableCompileCache?.()

// The compat shim must be evaluated before anything imports libp2p.
await import('../dist/node/compat.js')
const { main } = await import('../dist/cli/main.js')
main(process.argv).then((code) => { process.exitCode = code })
