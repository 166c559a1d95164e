// Interop of agentd's built-in tools with the official TypeScript SDK client
// (@modelcontextprotocol/sdk) over Streamable HTTP: run_python, run_bash and the memory tools are
// listed with output schemas, and their structuredContent passes the SDK's own validation against
// those schemas.
//
// usage: node builtin_tools_interop.mjs <path to agentd>
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agentd, Checks } from './lib/agentd.mjs';

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node builtin_tools_interop.mjs <agentd>');
  process.exit(2);
}

const checks = new Checks('sdk-builtin-tools');
const configDir = mkdtempSync(join(tmpdir(), 'agentd-builtin-'));
const configFile = join(configDir, 'config.json');
writeFileSync(configFile, JSON.stringify({ sandbox: { enabled: true }, memory: { tools: true } }));
const server = await Agentd.serve(binary, ['--config', configFile]);
const client = new Client({ name: 'agentd-builtin-interop', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(server.url));

await checks.run('initialize and list the built-in tools', async () => {
  await client.connect(transport);
  const { tools } = await client.listTools();
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  for (const name of ['run_python', 'run_bash', 'memory_store', 'memory_search', 'memory_delete']) {
    assert.ok(byName[name], `${name} is listed`);
    assert.equal(byName[name].inputSchema.type, 'object');
    assert.equal(byName[name].outputSchema?.type, 'object', `${name} has an output schema`);
  }
});

await checks.run('run_python returns structured output', async () => {
  const r = await client.callTool({
    name: 'run_python',
    arguments: { code: 'import sys\nprint(sum(map(int, sys.stdin.read().split())))', stdin: '1 2 3 4' },
  });
  assert.ok(!r.isError, JSON.stringify(r));
  assert.equal(r.structuredContent.stdout, '10\n');
  assert.equal(r.structuredContent.exit_code, 0);
  assert.ok(r.structuredContent.isolation.length > 0);
  assert.equal(r.content[0].text, '10\n');
});

await checks.run('a failing program is a tool error with its output', async () => {
  const r = await client.callTool({ name: 'run_bash', arguments: { code: 'echo half; exit 4' } });
  assert.equal(r.isError, true);
  assert.equal(r.structuredContent.exit_code, 4);
  assert.equal(r.structuredContent.stdout, 'half\n');
});

await checks.run('memory_store then memory_search', async () => {
  const stored = await client.callTool({
    name: 'memory_store',
    arguments: { text: 'The interop test remembers the wombat', namespace: 'interop', metadata: { n: 1 } },
  });
  assert.ok(!stored.isError, JSON.stringify(stored));
  const id = stored.structuredContent.id;
  assert.equal(typeof id, 'number');
  const found = await client.callTool({
    name: 'memory_search',
    arguments: { query: 'wombat', namespace: 'interop', filter: { n: 1 } },
  });
  assert.ok(!found.isError, JSON.stringify(found));
  assert.equal(found.structuredContent.mode, 'keyword'); // no model loaded
  assert.equal(found.structuredContent.results.length, 1);
  assert.equal(found.structuredContent.results[0].id, id);
  const removed = await client.callTool({ name: 'memory_delete', arguments: { id } });
  assert.equal(removed.structuredContent.deleted, 1);
});

await checks.run('close', async () => {
  await transport.terminateSession();
  await client.close();
  const { code } = await server.stop();
  assert.equal(code, 0, `agentd serve exit status; stderr:\n${server.stderr}`);
  rmSync(configDir, { recursive: true, force: true });
});

checks.finish();
if (checks.failed) await server.stop();
