// An MCP server on the official TypeScript SDK (@modelcontextprotocol/sdk, pinned in
// tests/interop/package.json), serving the same trivial tools as `agentd serve
// --conformance-fixtures`, for side-by-side benchmarks with `agentd bench gateway`.
//
//   node ts_server.mjs [--port N] [--mode stateful|stateless] [--sse]
//
// Prints "listening on 127.0.0.1:PORT" on stderr once ready (the same line agentd prints).
// Default: stateful sessions (one transport + server per session, the SDK's documented setup
// for long-lived clients) with JSON responses (enableJsonResponse: no SSE framing per call),
// which is the SDK's fastest normal configuration. SIGTERM/SIGINT close it.
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const sdk = new URL('../../interop/node_modules/@modelcontextprotocol/sdk/dist/esm/', import.meta.url);
const zodUrl = new URL('../../interop/node_modules/zod/index.js', import.meta.url);
const { McpServer } = await import(new URL('server/mcp.js', sdk));
const { StreamableHTTPServerTransport } = await import(new URL('server/streamableHttp.js', sdk));
const { isInitializeRequest } = await import(new URL('types.js', sdk));
const { z } = await import(zodUrl);

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const port = Number(option('--port', '0'));
const mode = option('--mode', 'stateful');
const json = !args.includes('--sse');
if (mode !== 'stateful' && mode !== 'stateless') {
  console.error(`unknown --mode ${mode}`);
  process.exit(2);
}

function makeServer() {
  const server = new McpServer({ name: 'ts-bench-server', version: '1.0.0' });
  server.registerTool(
    'test_simple_text',
    { description: 'Returns a fixed text', inputSchema: {} },
    async () => ({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] }),
  );
  server.registerTool(
    'echo',
    { description: 'Echoes the message back', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }),
  );
  return server;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendError(res, status, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

const sessions = new Map(); // session id → transport

async function handleStateful(req, res, body) {
  const sessionId = req.headers['mcp-session-id'];
  let transport = sessionId ? sessions.get(sessionId) : undefined;
  if (!transport) {
    if (sessionId || req.method !== 'POST' || !isInitializeRequest(body)) {
      return sendError(res, sessionId ? 404 : 400, 'no valid session');
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: json,
      onsessioninitialized: (id) => sessions.set(id, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await makeServer().connect(transport);
  }
  await transport.handleRequest(req, res, body);
}

async function handleStateless(req, res, body) {
  const server = makeServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: json,
  });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname !== '/mcp') {
      return sendError(res, 404, 'not found');
    }
    const text = req.method === 'POST' ? await readBody(req) : '';
    const body = text ? JSON.parse(text) : undefined;
    await (mode === 'stateful' ? handleStateful : handleStateless)(req, res, body);
  } catch (err) {
    if (!res.headersSent) sendError(res, 500, String(err));
  }
});
httpServer.keepAliveTimeout = 60_000;

httpServer.listen(port, '127.0.0.1', () => {
  const address = httpServer.address();
  console.error(`listening on 127.0.0.1:${address.port}`);
});

const stop = () => {
  for (const t of sessions.values()) t.close();
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections?.();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
