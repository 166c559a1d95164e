// Interop of agentd's A2A server with the official JavaScript SDK (@a2a-js/sdk 1.3.0) against
// the conformance fixture agent: every v1.0 method through the SDK's client (card, send, stream,
// get, list, cancel, resubscribe after a disconnect, push-notification configs and webhook
// delivery with retries, extended card, errors), the v0.3 method names through the SDK's compat
// layer (LegacyJsonRpcTransport) and as raw JSON-RPC without the A2A-Version header.
//
// usage: node a2a_sdk_interop.mjs <path to agentd>
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Role, TaskState } from '@a2a-js/sdk';
import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
} from '@a2a-js/sdk/client';
import { Agentd, Checks } from './lib/agentd.mjs';

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node a2a_sdk_interop.mjs <agentd>');
  process.exit(2);
}

const checks = new Checks('a2a-sdk');
let counter = 0;
const nextId = (prefix = 'm') => `${prefix}-${process.pid}-${++counter}`;

function textPart(value) {
  return { content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: '' };
}

function userMessage(text, { messageId, taskId = '', contextId = '', parts } = {}) {
  return {
    messageId: messageId ?? nextId(),
    contextId,
    taskId,
    role: Role.ROLE_USER,
    parts: parts ?? [textPart(text)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

function request(message, configuration) {
  return { tenant: '', message, configuration, metadata: undefined };
}

function isTask(result) {
  return result && typeof result === 'object' && 'status' in result && 'id' in result;
}

function textOf(parts) {
  return (parts ?? [])
    .filter((p) => p.content?.$case === 'text')
    .map((p) => p.content.value)
    .join('\n');
}

async function collect(stream, limit = 1000) {
  const events = [];
  for await (const e of stream) {
    events.push(e);
    if (events.length >= limit) break;
  }
  return events;
}

/** A webhook receiver on a free port; `failFirst` answers 500 to the first N requests. */
async function webhookReceiver({ failFirst = 0 } = {}) {
  const received = [];
  const waiters = new Set();
  let failures = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (failures < failFirst) {
        failures++;
        res.writeHead(500).end();
        return;
      }
      received.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      for (const w of [...waiters]) w();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  const waitFor = (predicate, timeoutMs = 20000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = received.find(predicate);
        if (hit) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching webhook within ${timeoutMs} ms; got ${JSON.stringify(received)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { url, received, waitFor, failures: () => failures, close: () => server.close() };
}

const agentd = await Agentd.serve(binary, ['--conformance-fixtures']);
const base = `http://127.0.0.1:${agentd.port}`;
try {
  const client = await new ClientFactory().createFromUrl(base);

  await checks.run('agent card: both versions advertised, v1.0 chosen', async () => {
    const card = await client.getAgentCard();
    assert.equal(client.protocolVersion, '1.0');
    const versions = card.supportedInterfaces.map((i) => i.protocolVersion).sort();
    assert.deepEqual(versions, ['0.3', '1.0']);
    assert.equal(card.capabilities.streaming, true);
    assert.equal(card.capabilities.pushNotifications, true);
    assert.ok(card.skills.some((s) => s.id === 'echo'));
  });

  await checks.run('SendMessage: echo completes with an artifact', async () => {
    const task = await client.sendMessage(request(userMessage('hello from the SDK')));
    assert.ok(isTask(task), JSON.stringify(task));
    assert.equal(task.status.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(textOf(task.status.message.parts), 'hello from the SDK');
    assert.equal(textOf(task.artifacts[0].parts), 'hello from the SDK');
  });

  await checks.run('SendMessage: text, raw, url and data parts round-trip', async () => {
    const parts = [
      textPart('parts'),
      { content: { $case: 'raw', value: Buffer.from([0, 1, 2, 255]) }, metadata: undefined,
        filename: 'b.bin', mediaType: 'application/octet-stream' },
      { content: { $case: 'url', value: 'https://example.com/a.png' }, metadata: undefined,
        filename: '', mediaType: 'image/png' },
      { content: { $case: 'data', value: { answer: 42, list: [1, 'two'] } }, metadata: undefined,
        filename: '', mediaType: 'application/json' },
    ];
    const task = await client.sendMessage(request(userMessage('', { parts })));
    const echoed = task.artifacts[0].parts;
    assert.equal(echoed.length, 4);
    assert.deepEqual([...echoed[1].content.value], [0, 1, 2, 255]);
    assert.equal(echoed[1].filename, 'b.bin');
    assert.equal(echoed[2].content.value, 'https://example.com/a.png');
    assert.deepEqual(echoed[3].content.value, { answer: 42, list: [1, 'two'] });
  });

  await checks.run('SendMessage: a direct Message reply (tck-message-response)', async () => {
    const reply = await client.sendMessage(
      request(userMessage('hi', { messageId: nextId('tck-message-response') })),
    );
    assert.ok(!isTask(reply));
    assert.equal(reply.role, Role.ROLE_AGENT);
    assert.equal(textOf(reply.parts), 'Direct message response');
  });

  await checks.run('SendMessage: input-required, then the follow-up completes it', async () => {
    const first = await client.sendMessage(request(userMessage('input')));
    assert.equal(first.status.state, TaskState.TASK_STATE_INPUT_REQUIRED);
    const second = await client.sendMessage(
      request(userMessage('the answer', { taskId: first.id, contextId: first.contextId })),
    );
    assert.equal(second.id, first.id);
    assert.equal(second.status.state, TaskState.TASK_STATE_COMPLETED);
    const full = await client.getTask({ tenant: '', id: first.id, historyLength: 10 });
    assert.ok(full.history.length >= 3, `history: ${full.history.length}`);
  });

  await checks.run('SendStreamingMessage: task, artifact, completed — in order', async () => {
    const events = await collect(
      client.sendMessageStream(request(userMessage('x', { messageId: nextId('tck-stream-001') }))),
    );
    assert.equal(events[0].payload.$case, 'task');
    const kinds = events.map((e) => e.payload.$case);
    assert.ok(kinds.includes('artifactUpdate'), kinds.join());
    const last = events.at(-1).payload;
    assert.equal(last.$case, 'statusUpdate');
    assert.equal(last.value.status.state, TaskState.TASK_STATE_COMPLETED);
  });

  await checks.run('SendStreamingMessage: chunked artifact (append, lastChunk)', async () => {
    const events = await collect(
      client.sendMessageStream(
        request(userMessage('x', { messageId: nextId('tck-stream-artifact-chunked') })),
      ),
    );
    const chunks = events.filter((e) => e.payload.$case === 'artifactUpdate').map((e) => e.payload.value);
    assert.equal(chunks.length, 2);
    assert.equal(chunks[1].append, true);
    assert.equal(chunks[1].lastChunk, true);
    const task = await client.getTask({ tenant: '', id: chunks[0].taskId });
    assert.equal(textOf(task.artifacts[0].parts), 'chunk-1 \nchunk-2');
  });

  await checks.run('GetTask / ListTasks', async () => {
    const task = await client.sendMessage(request(userMessage('listed')));
    const got = await client.getTask({ tenant: '', id: task.id, historyLength: 1 });
    assert.equal(got.id, task.id);
    assert.equal(got.history.length, 1);
    const list = await client.listTasks({ tenant: '', contextId: task.contextId, pageSize: 10,
      pageToken: '', status: TaskState.TASK_STATE_UNSPECIFIED, includeArtifacts: true });
    assert.equal(list.tasks.length, 1);
    assert.equal(list.tasks[0].id, task.id);
    assert.equal(list.totalSize, 1);
  });

  await checks.run('CancelTask: a slow task is canceled; a second cancel is refused', async () => {
    const task = await client.sendMessage(
      request(userMessage('slow 30'), { acceptedOutputModes: [], returnImmediately: true }),
    );
    assert.ok([TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING].includes(task.status.state));
    const canceled = await client.cancelTask({ tenant: '', id: task.id, metadata: undefined });
    assert.equal(canceled.status.state, TaskState.TASK_STATE_CANCELED);
    await assert.rejects(client.cancelTask({ tenant: '', id: task.id, metadata: undefined }),
      (e) => e.name === 'TaskNotCancelableError');
  });

  await checks.run('SubscribeToTask after a disconnect resumes the stream', async () => {
    const abort = new AbortController();
    const stream = client.sendMessageStream(request(userMessage('slow 3')), { signal: abort.signal });
    const first = (await stream.next()).value;
    assert.equal(first.payload.$case, 'task');
    const id = first.payload.value.id;
    abort.abort();
    await stream.return?.().catch(() => {});
    const events = await collect(client.resubscribeTask({ tenant: '', id }));
    assert.equal(events[0].payload.$case, 'task');
    assert.equal(events[0].payload.value.id, id);
    const last = events.at(-1).payload;
    assert.equal(last.value.status.state, TaskState.TASK_STATE_COMPLETED);
  });

  await checks.run('push notifications: delivered with token and auth, retried after a 500', async () => {
    const hook = await webhookReceiver({ failFirst: 1 });
    try {
      const task = await client.sendMessage(
        request(userMessage('slow 1'), {
          acceptedOutputModes: [],
          returnImmediately: true,
          taskPushNotificationConfig: { tenant: '', id: '', taskId: '', url: hook.url,
            token: 'tok-1', authentication: { scheme: 'Bearer', credentials: 'secret' } },
        }),
      );
      const done = await hook.waitFor(
        (r) => r.body.statusUpdate?.status?.state === 'TASK_STATE_COMPLETED',
      );
      assert.equal(done.body.statusUpdate.taskId, task.id);
      assert.equal(done.headers['x-a2a-notification-token'], 'tok-1');
      assert.equal(done.headers.authorization, 'Bearer secret');
      assert.match(done.headers['content-type'], /application\/a2a\+json/);
      assert.ok(hook.failures() >= 1);
    } finally {
      hook.close();
    }
  });

  await checks.run('push notification config CRUD', async () => {
    const task = await client.sendMessage(request(userMessage('input')));
    const created = await client.createTaskPushNotificationConfig({ tenant: '', id: '',
      taskId: task.id, url: 'http://127.0.0.1:9/hook', token: 't', authentication: undefined });
    assert.ok(created.id);
    const got = await client.getTaskPushNotificationConfig({ tenant: '', taskId: task.id, id: created.id });
    assert.equal(got.url, 'http://127.0.0.1:9/hook');
    const list = await client.listTaskPushNotificationConfig({ tenant: '', taskId: task.id,
      pageSize: 0, pageToken: '' });
    assert.equal(list.configs.length, 1);
    await client.deleteTaskPushNotificationConfig({ tenant: '', taskId: task.id, id: created.id });
    const after = await client.listTaskPushNotificationConfig({ tenant: '', taskId: task.id,
      pageSize: 0, pageToken: '' });
    assert.equal(after.configs.length, 0);
  });

  await checks.run('errors: TaskNotFound and the extended card', async () => {
    await assert.rejects(client.getTask({ tenant: '', id: 'no-such-task' }),
      (e) => e.name === 'TaskNotFoundError');
    await assert.rejects(client.resubscribeTask({ tenant: '', id: 'no-such-task' }).next(),
      (e) => e.name === 'TaskNotFoundError' || e.cause?.name === 'TaskNotFoundError');
    const card = await client.getAgentCard();
    assert.equal(card.name, 'agentd conformance fixture');
  });

  // v0.3 through the SDK's compat layer: a card offering only the 0.3 interface makes the
  // factory pick LegacyJsonRpcTransport (method names message/send, tasks/get, ...).
  const fullCard = await new DefaultAgentCardResolver().resolve(base);
  const legacyCard = { ...fullCard,
    supportedInterfaces: fullCard.supportedInterfaces.filter((i) => i.protocolVersion === '0.3') };
  const legacy = await new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ legacyCompat: { enabled: true } })],
    }),
  ).createFromAgentCard(legacyCard);

  await checks.run('v0.3 (SDK compat): message/send, tasks/get, message/stream', async () => {
    assert.equal(legacy.protocolVersion, '0.3');
    assert.match(Object.getPrototypeOf(legacy.transport).constructor.name, /LegacyJsonRpcTransport$/);
    const task = await legacy.sendMessage(request(userMessage('hello v0.3')));
    assert.equal(task.status.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(textOf(task.artifacts[0].parts), 'hello v0.3');
    const got = await legacy.getTask({ tenant: '', id: task.id });
    assert.equal(got.id, task.id);
    const events = await collect(
      legacy.sendMessageStream(request(userMessage('x', { messageId: nextId('tck-stream-003') }))),
    );
    assert.equal(events[0].payload.$case, 'task');
    assert.equal(events.at(-1).payload.value.status.state, TaskState.TASK_STATE_COMPLETED);
  });

  await checks.run('v0.3 (SDK compat): tasks/cancel, tasks/resubscribe, pushNotificationConfig/*', async () => {
    const task = await legacy.sendMessage(
      request(userMessage('slow 30'), { acceptedOutputModes: [], returnImmediately: true }),
    );
    const stream = legacy.resubscribeTask({ tenant: '', id: task.id });
    const first = (await stream.next()).value;
    assert.equal(first.payload.$case, 'task');
    const created = await legacy.createTaskPushNotificationConfig({ tenant: '', id: 'p1',
      taskId: task.id, url: 'http://127.0.0.1:9/hook', token: '', authentication: undefined });
    assert.equal(created.id, 'p1');
    const got = await legacy.getTaskPushNotificationConfig({ tenant: '', taskId: task.id, id: 'p1' });
    assert.equal(got.url, 'http://127.0.0.1:9/hook');
    await legacy.deleteTaskPushNotificationConfig({ tenant: '', taskId: task.id, id: 'p1' });
    const canceled = await legacy.cancelTask({ tenant: '', id: task.id, metadata: undefined });
    assert.equal(canceled.status.state, TaskState.TASK_STATE_CANCELED);
    const rest = await collect(stream);
    assert.equal(rest.at(-1).payload.value.status.state, TaskState.TASK_STATE_CANCELED);
  });

  await checks.run('v0.3 raw JSON-RPC without A2A-Version', async () => {
    const call = async (method, params) => {
      const r = await fetch(`${base}/a2a`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }) });
      assert.equal(r.status, 200);
      return r.json();
    };
    const sent = await call('message/send', { message: { kind: 'message', messageId: nextId(), role: 'user',
      parts: [{ kind: 'text', text: 'raw v0.3' }, { kind: 'data', data: { a: 1 } }] } });
    assert.equal(sent.result.kind, 'task', JSON.stringify(sent));
    assert.equal(sent.result.status.state, 'completed');
    assert.equal(sent.result.artifacts[0].parts[1].kind, 'data');
    const got = await call('tasks/get', { id: sent.result.id, historyLength: 1 });
    assert.equal(got.result.history.length, 1);
    const missing = await call('tasks/get', { id: 'nope' });
    assert.equal(missing.error.code, -32001);
    const badVersion = await fetch(`${base}/a2a`, { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'A2A-Version': '3.1' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'x' } }) });
    assert.equal((await badVersion.json()).error.code, -32009);
  });
} finally {
  const stopped = await agentd.stop();
  await checks.run('agentd exits cleanly after SIGTERM', async () => {
    assert.equal(stopped.code, 0, agentd.stderr.slice(-2000));
  });
  checks.finish();
}
