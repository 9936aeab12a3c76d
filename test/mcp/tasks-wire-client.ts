/**
 * A minimal modern-MCP (2026-07-28) HTTP client for the task wire tests: one POST per request with
 * the `_meta` and the routing headers the spec asks for (`Mcp-Method`, `Mcp-Name`), JSON or SSE
 * answers. Declares the tasks extension unless told not to.
 */
const TASKS = 'io.modelcontextprotocol/tasks';
let nextId = 1;

/** What one POST gave: the HTTP status and the JSON-RPC response. */
export interface Answer {
  status: number;
  body: { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };
}

function nameOf(method: string, params: Record<string, unknown>): string | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return params['name'] as string;
  if (method.startsWith('tasks/')) return params['taskId'] as string | undefined;
  return undefined;
}

/** Send one request; `tasks: false` leaves the extension out of the client capabilities. */
export async function mcp(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  options: { tasks?: boolean; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const id = nextId++;
  const capabilities = options.tasks === false ? { elicitation: {} } : { elicitation: {}, extensions: { [TASKS]: {} } };
  const body = {
    jsonrpc: '2.0',
    id,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': capabilities,
        'io.modelcontextprotocol/clientInfo': { name: 'tasks-test', version: '0' },
      },
    },
  };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
  };
  const name = nameOf(method, params);
  if (name !== undefined) headers['mcp-name'] = name;
  Object.assign(headers, options.headers);
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await response.text();
  if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    for (const line of text.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      const message = JSON.parse(line.slice(5)) as Answer['body'];
      if (message.id === id) return { status: response.status, body: message };
    }
    throw new Error(`no response to ${method} in the event stream: ${text}`);
  }
  return { status: response.status, body: JSON.parse(text) as Answer['body'] };
}

/** The result of a request that must succeed. */
export async function ok(url: string, method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const answer = await mcp(url, method, params);
  if (answer.body.result === undefined) throw new Error(`${method} failed: ${JSON.stringify(answer.body.error)}`);
  return answer.body.result;
}

/** Poll `tasks/get` every 20 ms until `done(task)` holds (or `timeoutMs` passes: throw). */
export async function pollTask(url: string, taskId: string, done: (task: Record<string, unknown>) => boolean, timeoutMs = 5_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await ok(url, 'tasks/get', { taskId });
    if (done(task)) return task;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${String(task['status'])} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
