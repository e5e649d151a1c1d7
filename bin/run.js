#!/usr/bin/env node
// Production entry point: runs the compiled commands in dist/.

// `hybrid --version` is asked by scripts and health checks often: answer it without loading the CLI
// framework (about 200 ms), in the same form oclif prints.
if (process.argv.length === 3 && process.argv[2] === '--version') {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(
    `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`,
  );
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
