// Interop of agentd's OpenAI-compatible API with the official `openai` npm client, against the
// real binary serving ../shared/models/stories260K.gguf (no chat template: the ChatML fallback,
// Hermes-style tool calls). The checks of CONFORMANCE.md "OpenAI client checks": models.list,
// plain chat (finish_reason, usage, max_tokens), streaming with include_usage (greedy streamed
// text equals the plain text), a forced tool call with valid JSON arguments and its result sent
// back, a streamed tool call whose argument deltas reassemble to JSON, json_schema output that
// parses and validates, embeddings, and errors in OpenAI's shape.
//
// usage: node openai_interop.mjs <path to agentd>   (exit 77: shared model missing, not under CI)
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { Agentd, Checks } from './lib/agentd.mjs';

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node openai_interop.mjs <agentd>');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shared = process.env.AGENTD_SHARED_DIR ?? join(here, '..', '..', '..', 'shared');
const modelFile = join(shared, 'models', 'stories260K.gguf');
if (!existsSync(modelFile)) {
  if (process.env.CI === 'true') {
    console.error(`shared data missing under CI: ${modelFile}`);
    process.exit(1);
  }
  console.log(`skipped: ${modelFile} not found`);
  process.exit(77);
}

const server = await Agentd.serve(binary, ['--model', modelFile]);
const client = new OpenAI({
  baseURL: `http://127.0.0.1:${server.port}/v1`,
  apiKey: 'unused-without-configured-keys',
  maxRetries: 0,
  timeout: 60000,
});
const checks = new Checks('openai');
const model = 'stories260K';

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};
const forced = { type: 'function', function: { name: 'get_weather' } };
const question = [{ role: 'user', content: 'What is the weather in Paris?' }];

await checks.run('models.list names the served model', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, [model]);
  const one = await client.models.retrieve(model);
  assert.equal(one.id, model);
  assert.equal(one.object, 'model');
});

let plainText;
await checks.run('plain chat honours max_tokens and reports usage', async () => {
  const r = await client.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: 'You tell stories.' },
      { role: 'user', content: 'Once upon a time' },
    ],
    max_tokens: 24,
    temperature: 0,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.ok(c.message.content.length > 0);
  assert.equal(c.finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 24);
  assert.ok(r.usage.prompt_tokens > 5);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.equal(r.usage.prompt_tokens_details.cached_tokens, 0);
  plainText = c.message.content;
});

await checks.run('streaming with include_usage equals the plain text at temperature 0', async () => {
  const stream = await client.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: 'You tell stories.' },
      { role: 'user', content: 'Once upon a time' },
    ],
    max_tokens: 24,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.ok(chunks > 3, `only ${chunks} chunks`);
  assert.equal(text, plainText);
  assert.equal(finish, 'length');
  assert.ok(usage, 'a usage chunk at the end');
  assert.equal(usage.completion_tokens, 24);
});

await checks.run('forced tool call: valid JSON arguments, finish_reason tool_calls, round trip', async () => {
  const r = await client.chat.completions.create({
    model,
    messages: question,
    tools: [weatherTool],
    tool_choice: forced,
    parallel_tool_calls: false,
    temperature: 0,
    max_tokens: 200,
  });
  const c = r.choices[0];
  assert.equal(c.finish_reason, 'tool_calls');
  assert.equal(c.message.tool_calls.length, 1);
  const call = c.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
  const args = JSON.parse(call.function.arguments);
  assert.deepEqual(Object.keys(args), ['city']);
  assert.ok(weatherTool.function.parameters.properties.city.enum.includes(args.city));

  // The tool's result goes back; the model answers in text.
  const followUp = await client.chat.completions.create({
    model,
    messages: [
      ...question,
      c.message,
      { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature_c: 18 }) },
    ],
    tools: [weatherTool],
    tool_choice: 'none',
    temperature: 0,
    max_tokens: 16,
  });
  const answer = followUp.choices[0];
  assert.equal(answer.message.role, 'assistant');
  assert.equal(typeof answer.message.content, 'string');
  assert.ok(!answer.message.tool_calls || answer.message.tool_calls.length === 0);
  assert.ok(followUp.usage.prompt_tokens > r.usage.prompt_tokens, 'the history grew');
});

await checks.run('streamed tool call: argument deltas reassemble to JSON', async () => {
  const stream = await client.chat.completions.create({
    model,
    messages: question,
    tools: [weatherTool],
    tool_choice: 'required',
    parallel_tool_calls: false,
    temperature: 0,
    max_tokens: 200,
    stream: true,
  });
  const calls = [];
  let finish = null;
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      for (const d of choice.delta.tool_calls ?? []) {
        calls[d.index] ??= { id: '', name: '', arguments: '' };
        if (d.id) calls[d.index].id = d.id;
        if (d.function?.name) calls[d.index].name += d.function.name;
        if (d.function?.arguments) calls[d.index].arguments += d.function.arguments;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'get_weather');
  assert.ok(calls[0].id.startsWith('call_'));
  const args = JSON.parse(calls[0].arguments);
  assert.ok(['Paris', 'Oslo', 'Lima'].includes(args.city));
});

await checks.run('json_schema output parses and validates', async () => {
  const schema = {
    type: 'object',
    properties: {
      mood: { type: 'string', enum: ['happy', 'sad'] },
      count: { type: 'integer', minimum: 1, maximum: 9 },
      done: { type: 'boolean' },
    },
    required: ['mood', 'count', 'done'],
    additionalProperties: false,
  };
  const r = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'How is the cat?' }],
    response_format: { type: 'json_schema', json_schema: { name: 'cat', schema, strict: true } },
    temperature: 0,
    max_tokens: 200,
  });
  assert.equal(r.choices[0].finish_reason, 'stop');
  const v = JSON.parse(r.choices[0].message.content);
  assert.deepEqual(Object.keys(v), ['mood', 'count', 'done']);
  assert.ok(['happy', 'sad'].includes(v.mood));
  assert.ok(Number.isInteger(v.count) && v.count >= 1 && v.count <= 9);
  assert.equal(typeof v.done, 'boolean');
});

await checks.run('completions and embeddings', async () => {
  const c = await client.completions.create({
    model,
    prompt: 'Once upon a time',
    max_tokens: 10,
    temperature: 0,
  });
  assert.equal(c.object, 'text_completion');
  assert.equal(c.choices[0].text, ', there was a little girl named Lily');
  assert.equal(c.choices[0].finish_reason, 'length');
  const e = await client.embeddings.create({ model, input: ['a red ball', 'the park'] });
  assert.equal(e.data.length, 2);
  assert.equal(e.data[0].embedding.length, e.data[1].embedding.length);
  assert.ok(e.data[0].embedding.length > 0);
  const norm = Math.hypot(...e.data[0].embedding);
  assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
  assert.ok(e.usage.prompt_tokens > 2);
});

await checks.run('errors arrive in OpenAI shape with the right status', async () => {
  await assert.rejects(
    client.chat.completions.create({ model, messages: [] }),
    (err) => err instanceof OpenAI.BadRequestError && err.status === 400 &&
      err.error?.type === 'invalid_request_error' && err.param === 'messages',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-nonexistent', messages: question }),
    (err) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found',
  );
  await assert.rejects(
    client.chat.completions.create({ model, messages: question, temperature: 7 }),
    (err) => err.status === 400 && err.param === 'temperature',
  );
});

const { code } = await server.stop();
await checks.run('SIGTERM stops the server cleanly', async () => assert.equal(code, 0));
checks.finish();
