// Interop of agentd's A2A client (`agentd a2a call`, the code behind peer-agent tools) with
// servers built on the official JavaScript SDK (@a2a-js/sdk 1.3.0): a v1.0 server and a server
// that offers only its v0.3 interface (the SDK's compat layer). Checks completion with artifacts,
// progress from status messages, failures, input-required and its continuation, and a timeout
// that cancels the peer's task.
//
// usage: node a2a_client_interop.mjs <path to agentd>
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { AGENT_CARD_PATH, Role, TaskState } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { Checks } from './lib/agentd.mjs';

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node a2a_client_interop.mjs <agentd>');
  process.exit(2);
}
const checks = new Checks('a2a-client');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function text(value) {
  return { content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

function agentMessage(taskId, contextId, value) {
  return { messageId: randomUUID(), contextId, taskId, role: Role.ROLE_AGENT, parts: [text(value)],
    metadata: undefined, extensions: [], referenceTaskIds: [] };
}

/** Publishes task lifecycles chosen by the message text. */
class ScriptedExecutor {
  constructor() {
    this.canceled = new Set();
  }
  cancelTask = async (taskId, bus) => {
    this.canceled.add(taskId);
  };
  async execute(ctx, bus) {
    const { taskId, contextId, userMessage } = ctx;
    const said = userMessage.parts.map((p) => p.content?.value ?? '').join(' ');
    const status = (state, message) =>
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId, metadata: undefined,
        status: { state, timestamp: new Date().toISOString(),
          message: message === undefined ? undefined : agentMessage(taskId, contextId, message) } }));
    const artifact = (value) =>
      bus.publish(AgentEvent.artifactUpdate({ taskId, contextId, append: false, lastChunk: true,
        metadata: undefined, artifact: { artifactId: randomUUID(), name: 'answer', description: '',
          parts: [text(value)], metadata: undefined, extensions: [] } }));
    if (!ctx.task) {
      bus.publish(AgentEvent.task({ id: taskId, contextId, artifacts: [], history: [userMessage],
        metadata: undefined, status: { state: TaskState.TASK_STATE_SUBMITTED,
          timestamp: new Date().toISOString(), message: undefined } }));
    } else {
      artifact(`got: ${said}`);
      status(TaskState.TASK_STATE_COMPLETED, 'thanks');
      return;
    }
    if (said === 'slow') {
      for (let i = 1; i <= 3; i++) {
        status(TaskState.TASK_STATE_WORKING, `step ${i} of 3`);
        await sleep(400);
      }
      artifact('slow done');
      status(TaskState.TASK_STATE_COMPLETED);
    } else if (said === 'fail') {
      status(TaskState.TASK_STATE_FAILED, 'it broke');
    } else if (said === 'input') {
      status(TaskState.TASK_STATE_INPUT_REQUIRED, 'which one?');
    } else if (said === 'hang') {
      status(TaskState.TASK_STATE_WORKING, 'thinking forever');
      while (!this.canceled.has(taskId)) await sleep(50);
      status(TaskState.TASK_STATE_CANCELED);
    } else {
      status(TaskState.TASK_STATE_WORKING, 'on it');
      artifact(`Hello, ${said}!`);
      status(TaskState.TASK_STATE_COMPLETED);
    }
  }
}

/** An SDK server on a free port; `version` '1.0' or '0.3' (the only interface it offers). */
async function sdkServer(version) {
  const app = express();
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = server.address().port;
  const card = {
    name: `sdk-${version}`, description: 'SDK test agent', version: '1.0.0',
    supportedInterfaces: [{ url: `http://127.0.0.1:${port}/rpc`, protocolBinding: 'JSONRPC',
      tenant: '', protocolVersion: version }],
    provider: undefined, documentationUrl: undefined, iconUrl: undefined,
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {}, securityRequirements: [], defaultInputModes: ['text'],
    defaultOutputModes: ['text'], signatures: [],
    skills: [{ id: 'hello', name: 'Hello', description: 'greets', tags: ['test'], examples: [],
      inputModes: [], outputModes: [], securityRequirements: [] }],
  };
  const executor = new ScriptedExecutor();
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  const legacyCompat = { enabled: version === '0.3' };
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler, legacyCompat }));
  app.use('/rpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication,
    legacyCompat }));
  return { executor, cardUrl: `http://127.0.0.1:${port}/${AGENT_CARD_PATH}`, close: () => server.close() };
}

function call(cardUrl, message, extra = []) {
  return new Promise((resolve) => {
    execFile(binary, ['a2a', 'call', cardUrl, message, ...extra], { timeout: 60000 },
      (error, stdout, stderr) => {
        let out;
        try {
          out = JSON.parse(stdout);
        } catch {
          out = { unparsable: stdout, stderr };
        }
        resolve({ code: error ? error.code : 0, out });
      });
  });
}

const v1 = await sdkServer('1.0');
const v03 = await sdkServer('0.3');
try {
  for (const [label, server, version] of [['v1.0', v1, '1.0'], ['v0.3', v03, '0.3']]) {
    await checks.run(`${label}: completes with the artifact`, async () => {
      const { code, out } = await call(server.cardUrl, 'agentd');
      assert.equal(code, 0, JSON.stringify(out));
      assert.equal(out.state, 'completed');
      assert.equal(out.version, version);
      assert.match(out.text, /Hello, agentd!/);
      assert.ok(out.task_id);
    });

    await checks.run(`${label}: progress from status messages`, async () => {
      const { code, out } = await call(server.cardUrl, 'slow');
      assert.equal(code, 0, JSON.stringify(out));
      assert.equal(out.state, 'completed');
      assert.match(out.text, /slow done/);
      assert.ok(out.progress.some((p) => /step \d of 3/.test(p)), JSON.stringify(out.progress));
    });

    await checks.run(`${label}: a failed task is reported with its reason`, async () => {
      const { code, out } = await call(server.cardUrl, 'fail');
      assert.equal(code, 0);
      assert.equal(out.state, 'failed');
      assert.match(out.text, /it broke/);
    });

    await checks.run(`${label}: input-required, then continued by task id`, async () => {
      const first = await call(server.cardUrl, 'input');
      assert.equal(first.out.state, 'input-required');
      assert.match(first.out.text, /which one\?/);
      const second = await call(server.cardUrl, 'the blue one', ['--task-id', first.out.task_id,
        '--context-id', first.out.context_id]);
      assert.equal(second.out.state, 'completed', JSON.stringify(second.out));
      assert.match(second.out.text, /got: the blue one/);
    });

    await checks.run(`${label}: a timeout cancels the peer's task`, async () => {
      const { code, out } = await call(server.cardUrl, 'hang', ['--timeout-ms', '1500']);
      assert.equal(code, 1);
      assert.match(out.error, /did not finish in time/);
      for (let i = 0; i < 100 && server.executor.canceled.size === 0; i++) await sleep(50);
      assert.equal(server.executor.canceled.size, 1);
      server.executor.canceled.clear();
    });
  }

  await checks.run('errors: a missing card and an unreachable peer', async () => {
    const missing = await call(v1.cardUrl.replace(AGENT_CARD_PATH, 'nope.json'), 'x');
    assert.equal(missing.code, 1);
    assert.match(missing.out.error, /HTTP 404/);
    const refused = await call('http://127.0.0.1:1/.well-known/agent-card.json', 'x');
    assert.equal(refused.code, 1);
    assert.match(refused.out.error, /refused/);
  });
} finally {
  v1.close();
  v03.close();
  checks.finish();
}
