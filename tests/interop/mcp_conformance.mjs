// Runs the official MCP conformance suite (@modelcontextprotocol/conformance, server mode, the
// "active" suite: 30 scenarios over protocol revisions 2025-06-18 and 2025-11-25) against the real
// agentd with its conformance fixtures. Fails unless every scenario passes and agentd then stops
// cleanly.
//
// usage: node mcp_conformance.mjs <path to agentd>
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Agentd } from './lib/agentd.mjs';

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node mcp_conformance.mjs <agentd>');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('@modelcontextprotocol/conformance/package.json')), 'dist', 'index.js');
const EXPECTED_SCENARIOS = 30;

const server = await Agentd.serve(binary, ['--conformance-fixtures']);
let output = '';
const status = await new Promise((resolve) => {
  const child = spawn(process.execPath, [cli, 'server', '--url', server.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 540000);
  child.once('exit', (code) => {
    clearTimeout(timer);
    resolve(code);
  });
});
const { code: serverExit } = await server.stop();

const summary = output.slice(output.lastIndexOf('=== SUMMARY ==='));
const passed = (summary.match(/^✓ /gm) || []).length;
const failed = (summary.match(/^✗ /gm) || []).length;
const problems = [];
if (status !== 0) problems.push(`conformance exited with ${status}`);
if (passed !== EXPECTED_SCENARIOS || failed !== 0) {
  problems.push(`${passed} scenarios passed and ${failed} failed; expected all ${EXPECTED_SCENARIOS} to pass`);
}
if (serverExit !== 0) problems.push(`agentd exited with ${serverExit}:\n${server.stderr}`);
if (problems.length) {
  console.log(`\nFAIL: ${problems.join('; ')}`);
  process.exit(1);
}
console.log(`\nconformance: all ${EXPECTED_SCENARIOS} scenarios passed`);
