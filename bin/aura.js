#!/usr/bin/env node
// The compat shim must be evaluated before anything imports libp2p.
import '../dist/node/compat.js'
import { main } from '../dist/cli/main.js'

main(process.argv).then((code) => { process.exitCode = code })
