#!/usr/bin/env node
// The installed command's entry point (package.json "bin" points at its bundled copy,
// dist/bundle/bin.js). With NESTCTL_DEBUG set, stack traces name the TypeScript sources: Node maps
// only the modules loaded after source maps are enabled, so this file enables them and then loads
// everything else.

if (process.env.NESTCTL_DEBUG) process.setSourceMapsEnabled(true);
await import('./main.js');
