// Interop of agentd's MCP server with the official TypeScript SDK client (@modelcontextprotocol/sdk)
// over Streamable HTTP (`agentd serve`) or stdio (`agentd mcp --stdio`), against the conformance
// fixtures: initialize, tools, resources, prompts, completion, logging, progress, sampling and
// cancellation (a cancelled tool must stop working: agentd logs the step where it stopped).
//
// usage: node mcp_sdk_interop.mjs <path to agentd> http|stdio
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { Agentd, Checks } from './lib/agentd.mjs';

const [binary, mode] = process.argv.slice(2);
if (!binary || !['http', 'stdio'].includes(mode)) {
  console.error('usage: node mcp_sdk_interop.mjs <agentd> http|stdio');
  process.exit(2);
}

const checks = new Checks(`sdk-${mode}`);
let server; // Agentd (http)
let stderrText = ''; // stdio child's stderr
let dataDir;
let transport;

const client = new Client(
  { name: 'agentd-interop', version: '1.0.0' },
  { capabilities: { sampling: {}, elicitation: {} } },
);

const stderrWaiters = new Set();
function waitForLog(pattern, timeoutMs = 10000) {
  if (mode === 'http') return server.waitForStderr(pattern, timeoutMs);
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = stderrText.match(pattern);
      if (!m) return;
      stderrWaiters.delete(check);
      clearTimeout(timer);
      resolve(m);
    };
    const timer = setTimeout(() => {
      stderrWaiters.delete(check);
      reject(new Error(`no ${pattern} in stderr:\n${stderrText}`));
    }, timeoutMs);
    stderrWaiters.add(check);
    check();
  });
}

if (mode === 'http') {
  server = await Agentd.serve(binary, ['--conformance-fixtures']);
  transport = new StreamableHTTPClientTransport(new URL(server.url));
} else {
  dataDir = mkdtempSync(join(tmpdir(), 'agentd-interop-'));
  transport = new StdioClientTransport({
    command: binary,
    args: ['mcp', '--stdio', '--conformance-fixtures', '--data', dataDir],
    stderr: 'pipe',
  });
  transport.stderr.setEncoding('utf8');
  transport.stderr.on('data', (chunk) => {
    stderrText += chunk;
    for (const waiter of [...stderrWaiters]) waiter();
  });
}

await checks.run('initialize', async () => {
  await client.connect(transport);
  assert.equal(client.getServerVersion().name, 'agentd');
  const caps = client.getServerCapabilities();
  assert.ok(caps.tools && caps.resources && caps.prompts && caps.logging && caps.completions);
  if (mode === 'http') assert.ok(transport.sessionId, 'a session id');
});

await checks.run('tools/list is complete and sorted', async () => {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  for (const n of ['echo', 'trigger-long-running-operation', 'test_simple_text', 'test_sampling']) {
    assert.ok(names.includes(n), `missing ${n}`);
  }
  assert.deepEqual(names, [...names].sort());
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object');
    assert.ok(t.description);
  }
});

await checks.run('tools/call echo', async () => {
  const r = await client.callTool({ name: 'echo', arguments: { message: 'hello agentd' } });
  assert.equal(r.content[0].text, 'Echo: hello agentd');
  const bad = await client.callTool({ name: 'echo', arguments: { message: 5 } });
  assert.equal(bad.isError, true);
});

await checks.run('tools/call unknown tool is a protocol error', async () => {
  await assert.rejects(client.callTool({ name: 'no-such-tool', arguments: {} }), /-32602|Unknown tool/);
});

await checks.run('resources', async () => {
  const { resources } = await client.listResources();
  assert.ok(resources.some((r) => r.uri === 'test://static-text'));
  const text = await client.readResource({ uri: 'test://static-text' });
  assert.equal(text.contents[0].text, 'This is the content of the static text resource.');
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.equal(resourceTemplates[0].uriTemplate, 'test://template/{id}/data');
  const item = await client.readResource({ uri: 'test://template/42/data' });
  assert.equal(JSON.parse(item.contents[0].text).id, '42');
  await assert.rejects(client.readResource({ uri: 'test://nope' }), /-32002|not found/i);
  await client.subscribeResource({ uri: 'test://watched-resource' });
  await client.unsubscribeResource({ uri: 'test://watched-resource' });
});

await checks.run('prompts and completion', async () => {
  const { prompts } = await client.listPrompts();
  assert.equal(prompts.length, 4);
  const p = await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a', arg2: 'b' } });
  assert.match(p.messages[0].content.text, /arg1='a', arg2='b'/);
  await assert.rejects(client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a' } }));
  const c = await client.complete({
    ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
    argument: { name: 'arg1', value: 'par' },
  });
  assert.deepEqual(c.completion.values, ['paris', 'park', 'party']);
});

await checks.run('logging notifications follow the level', async () => {
  const logs = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
  await client.setLoggingLevel('info');
  await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
  assert.deepEqual(logs.map((l) => l.data), [
    'Tool execution started',
    'Tool processing data',
    'Tool execution completed',
  ]);
  logs.length = 0;
  await client.setLoggingLevel('error');
  await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
  assert.equal(logs.length, 0);
});

await checks.run('progress notifications, one per step', async () => {
  const progress = [];
  const r = await client.request(
    { method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } } },
    CallToolResultSchema,
    { onprogress: (p) => progress.push(p) },
  );
  // agentd sends one notification per step, the last one right before the result. The SDK hands
  // notifications to handlers a microtask late but resolves responses at once, so a last
  // notification read in the same chunk as the result can be dropped by the client: the steps
  // seen must be a prefix of 1..3 with at least the first two (the raw wire is checked by the
  // C++ integration tests).
  const expected = [[1, 3], [2, 3], [3, 3]];
  assert.ok(progress.length >= 2, `got ${progress.length} progress notifications`);
  assert.deepEqual(progress.map((p) => [p.progress, p.total]), expected.slice(0, progress.length));
  assert.match(r.content[0].text, /Long running operation completed/);
});

await checks.run('sampling: the server asks the client LLM', async () => {
  let asked;
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    asked = req.params;
    return { role: 'assistant', content: { type: 'text', text: 'forty-two' }, model: 'm', stopReason: 'endTurn' };
  });
  const r = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'meaning of life?' } });
  assert.equal(asked.messages[0].content.text, 'meaning of life?');
  assert.equal(asked.maxTokens, 100);
  assert.equal(r.content[0].text, 'LLM response: forty-two');
});

await checks.run('cancellation stops the tool', async () => {
  const controller = new AbortController();
  const seen = [];
  const call = client.request(
    { method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 600 } } },
    CallToolResultSchema,
    {
      signal: controller.signal,
      onprogress: (p) => {
        seen.push(p.progress);
        if (seen.length === 2) controller.abort('test cancels');
      },
    },
  );
  await assert.rejects(call);
  // agentd logs where the operation stopped; it must be long before the end.
  const m = await waitForLog(/mcp fixture operation cancelled tool=trigger-long-running-operation completed_steps=(\d+) steps=600/);
  const stoppedAt = Number(m[1]);
  assert.ok(stoppedAt >= 2 && stoppedAt < 600, `stopped at step ${stoppedAt}`);
  // The server keeps serving on the same connection/session.
  const r = await client.callTool({ name: 'echo', arguments: { message: 'still here' } });
  assert.equal(r.content[0].text, 'Echo: still here');
});

let stdioExit;
await checks.run('close', async () => {
  if (mode === 'http') {
    await transport.terminateSession();
    assert.equal(transport.sessionId, undefined);
    await client.close();
    const { code } = await server.stop();
    assert.equal(code, 0, `agentd serve exit status; stderr:\n${server.stderr}`);
  } else {
    const child = transport._process;
    stdioExit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await client.close(); // closes stdin: agentd must exit on its own
    const { code, signal } = await stdioExit;
    assert.equal(signal, null, 'exited on end of input, not by a signal');
    assert.equal(code, 0);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

checks.finish();
if (mode === 'http' && checks.failed) await server.stop();
