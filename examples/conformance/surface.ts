/**
 * What the MCP conformance suite asks a server to expose (both eras): its tools, resources,
 * prompts and completions, built on session-supervisor's MCP server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ErrorCode, JsonRpcError, type MethodTable } from '../../src/index.js';
import { defineTool, requestInput, type McpServer, type ToolDefinition } from '../../src/mcp/index.js';

/** A 1×1 transparent PNG. */
export const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
/** A 44-byte WAV header with no samples (8 kHz, mono, 8 bit). */
export const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=';

const noArgs = z.object({});
const elicitSchema = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required });

/** The tools of both requirement sets (the server is passed in so the change triggers can announce). */
export function conformanceTools(server: () => McpServer): ToolDefinition[] {
  return [
    defineTool({ name: 'test_simple_text', description: 'Returns simple text', input: noArgs, run: () => 'This is a simple text response for testing.' }),
    defineTool({ name: 'test_image_content', description: 'Returns an image', input: noArgs, run: () => ({ content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] }) }),
    defineTool({ name: 'test_audio_content', description: 'Returns audio', input: noArgs, run: () => ({ content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] }) }),
    defineTool({
      name: 'test_embedded_resource',
      description: 'Returns an embedded resource',
      input: noArgs,
      run: () => ({ content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] }),
    }),
    defineTool({
      name: 'test_multiple_content_types',
      description: 'Returns text, an image and a resource',
      input: noArgs,
      run: () => ({
        content: [
          { type: 'text', text: 'Multiple content types test:' },
          { type: 'image', data: PNG, mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
        ],
      }),
    }),
    defineTool({
      name: 'test_tool_with_logging',
      description: 'Logs three messages while it runs',
      input: noArgs,
      run: async (_args, ctx) => {
        ctx.log('info', 'Tool execution started');
        await sleep(50, undefined, { signal: ctx.signal });
        ctx.log('info', 'Tool processing data');
        await sleep(50, undefined, { signal: ctx.signal });
        ctx.log('info', 'Tool execution completed');
        return 'Logging test completed';
      },
    }),
    defineTool({
      name: 'test_logging_tool',
      description: 'Logs one message (only when the request asked for logs)',
      input: noArgs,
      run: (_args, ctx) => {
        ctx.log('info', 'test_logging_tool ran');
        return 'logged';
      },
    }),
    defineTool({
      name: 'test_tool_with_progress',
      description: 'Reports progress 0, 50, 100',
      input: noArgs,
      run: async (_args, ctx) => {
        ctx.progress(0, 100);
        await sleep(50, undefined, { signal: ctx.signal });
        ctx.progress(50, 100);
        await sleep(50, undefined, { signal: ctx.signal });
        ctx.progress(100, 100);
        return 'Progress test completed';
      },
    }),
    defineTool({
      name: 'test_error_handling',
      description: 'Always fails',
      input: noArgs,
      run: () => {
        throw new Error('This tool intentionally returns an error for testing');
      },
    }),
    defineTool({
      name: 'test_sampling',
      description: 'Asks the client model',
      input: z.object({ prompt: z.string() }),
      run: async ({ prompt }, ctx) => {
        const answer = (await ctx.sample('llm', { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 })) as {
          content?: { text?: string };
        };
        return `LLM response: ${answer.content?.text ?? ''}`;
      },
    }),
    defineTool({
      name: 'test_elicitation',
      description: 'Asks the user',
      input: z.object({ message: z.string() }),
      run: async ({ message }, ctx) => {
        const answer = await ctx.elicit('user', {
          mode: 'form',
          message,
          requestedSchema: elicitSchema({ username: { type: 'string', description: 'Your username' }, email: { type: 'string', description: 'Your email' } }, ['username']),
        });
        return `User response: ${JSON.stringify(answer)}`;
      },
    }),
    defineTool({
      name: 'test_elicitation_sep1034_defaults',
      description: 'Elicitation with defaults for every primitive type',
      input: noArgs,
      run: async (_args, ctx) => {
        const answer = (await ctx.elicit('defaults', {
          mode: 'form',
          message: 'Please review and update the form fields with defaults',
          requestedSchema: elicitSchema({
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          }),
        })) as { action?: string; content?: unknown };
        return `Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`;
      },
    }),
    defineTool({
      name: 'test_elicitation_sep1330_enums',
      description: 'Elicitation with every enum form',
      input: noArgs,
      run: async (_args, ctx) => {
        const answer = (await ctx.elicit('enums', {
          mode: 'form',
          message: 'Please select options from the enum fields',
          requestedSchema: elicitSchema({
            untitledSingle: { type: 'string', description: 'Untitled single-select', enum: ['option1', 'option2', 'option3'] },
            titledSingle: {
              type: 'string',
              description: 'Titled single-select',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: { type: 'string', description: 'Legacy titled enum', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
            untitledMulti: { type: 'array', description: 'Untitled multi-select', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
            titledMulti: {
              type: 'array',
              description: 'Titled multi-select',
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          }),
        })) as { action?: string; content?: unknown };
        return `Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`;
      },
    }),
    // ---- 2026-07-28 (stateless) diagnostics ----
    defineTool({
      name: 'test_missing_capability',
      description: 'Needs the sampling capability',
      input: noArgs,
      run: async (_args, ctx) => {
        ctx.requireCapabilities('sampling');
        const answer = (await ctx.sample('llm', { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 10 })) as {
          content?: { text?: string };
        };
        return answer.content?.text ?? '';
      },
    }),
    defineTool({
      name: 'test_streaming_elicitation',
      description: 'Asks the user through an input_required result',
      input: noArgs,
      run: async (_args, ctx) => {
        const answer = await ctx.elicit('confirm', { mode: 'form', message: 'Continue?', requestedSchema: elicitSchema({ ok: { type: 'boolean' } }) });
        return `answer: ${JSON.stringify(answer)}`;
      },
    }),
    defineTool({
      name: 'test_trigger_tool_change',
      description: 'Announces a tools list change',
      input: noArgs,
      run: () => {
        server().mcp.changed('tools');
        return 'tools changed';
      },
    }),
    defineTool({
      name: 'test_trigger_prompt_change',
      description: 'Announces a prompts list change',
      input: noArgs,
      run: () => {
        server().mcp.changed('prompts');
        return 'prompts changed';
      },
    }),
    defineTool({
      name: 'json_schema_2020_12_tool',
      description: 'Tool with JSON Schema 2020-12 features',
      input: z.record(z.string(), z.unknown()),
      inputSchema: JSON_SCHEMA_2020_12,
      run: (args) => `received ${JSON.stringify(args)}`,
    }),
    // ---- multi-round-trip input (SEP-2322) ----
    ...inputRequiredTools(),
    // ---- parameters mirrored into Mcp-Param-* headers (SEP-2243) ----
    defineTool({
      name: 'test_custom_headers',
      description: 'Echoes its region, which clients also send as the Mcp-Param-Region header',
      input: z.object({
        region: z.string().meta({ 'x-mcp-header': 'Region' }),
        priority: z.int().optional().meta({ 'x-mcp-header': 'Priority' }),
      }),
      run: ({ region }) => `region ${region}`,
    }),
  ];
}

/** A tool input schema that uses the JSON Schema 2020-12 vocabulary (listed as it is). */
const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};

const nameSchema = elicitSchema({ name: { type: 'string' } }, ['name']);
const askName = (message: string) => ({ method: 'elicitation/create' as const, params: { mode: 'form', message, requestedSchema: nameSchema } });
const askModel = (question: string) => ({
  method: 'sampling/createMessage' as const,
  params: { messages: [{ role: 'user', content: { type: 'text', text: question } }], maxTokens: 100 },
});
const askRoots = { method: 'roots/list' as const, params: {} };

function inputRequiredTools(): ToolDefinition[] {
  return [
    defineTool({
      name: 'test_input_required_result_elicitation',
      description: 'MRTR: one elicitation',
      input: noArgs,
      run: async (_args, ctx) => {
        const { user_name } = (await ctx.input({ user_name: askName('What is your name?') })) as { user_name: { content?: { name?: string } } };
        return `Hello, ${user_name.content?.name ?? 'unknown'}!`;
      },
    }),
    defineTool({
      name: 'test_input_required_result_sampling',
      description: 'MRTR: one sampling request',
      input: noArgs,
      run: async (_args, ctx) => {
        const { capital_question } = (await ctx.input({ capital_question: askModel('What is the capital of France?') })) as {
          capital_question: { content?: { text?: string } };
        };
        return `Model said: ${capital_question.content?.text ?? ''}`;
      },
    }),
    defineTool({
      name: 'test_input_required_result_list_roots',
      description: 'MRTR: the client roots',
      input: noArgs,
      run: async (_args, ctx) => {
        const { client_roots } = (await ctx.input({ client_roots: askRoots })) as { client_roots: { roots?: { uri: string }[] } };
        return `Roots: ${(client_roots.roots ?? []).map((root) => root.uri).join(', ')}`;
      },
    }),
    defineTool({
      name: 'test_input_required_result_request_state',
      description: 'MRTR: input and a requestState',
      input: noArgs,
      run: async (_args, ctx) => {
        await ctx.input({ confirm: askName('Confirm your name') });
        // Reaching here after a retry means the signed requestState was verified.
        return ctx.round > 0 ? 'state-ok: requestState verified' : 'no state';
      },
    }),
    defineTool({
      name: 'test_input_required_result_multiple_inputs',
      description: 'MRTR: elicitation, sampling and roots at once',
      input: noArgs,
      run: async (_args, ctx) => {
        const answers = await ctx.input({ user_name: askName('Your name?'), greeting: askModel('Say hello'), client_roots: askRoots });
        return `Got ${Object.keys(answers).length} answers`;
      },
    }),
    defineTool({
      name: 'test_input_required_result_multi_round',
      description: 'MRTR: two rounds',
      input: noArgs,
      run: async (_args, ctx) => {
        await ctx.input({ step1: askName('Step 1: your name?') });
        await ctx.input({ step2: askName('Step 2: your nickname?') });
        return 'Both rounds done';
      },
    }),
    defineTool({
      name: 'test_input_required_result_tampered_state',
      description: 'MRTR: refuses a tampered requestState',
      input: noArgs,
      run: async (_args, ctx) => {
        await ctx.input({ user_name: askName('Your name?') });
        return 'state-ok';
      },
    }),
    defineTool({
      name: 'test_input_required_result_capabilities',
      description: 'MRTR: asks only for what the client declared',
      input: noArgs,
      run: async (_args, ctx) => {
        const requests: Parameters<typeof ctx.input>[0] = {};
        if (ctx.clientCapabilities['elicitation'] !== undefined) requests['user_name'] = askName('Your name?');
        if (ctx.clientCapabilities['sampling'] !== undefined) requests['greeting'] = askModel('Say hello');
        if (ctx.clientCapabilities['roots'] !== undefined) requests['client_roots'] = askRoots;
        if (Object.keys(requests).length === 0) return 'No input capabilities declared';
        const answers = await ctx.input(requests);
        return `Got ${Object.keys(answers).join(', ')}`;
      },
    }),
  ];
}

const RESOURCES = [
  { uri: 'test://static-text', name: 'static-text', description: 'A static text resource', mimeType: 'text/plain' },
  { uri: 'test://static-binary', name: 'static-binary', description: 'A static binary resource', mimeType: 'image/png' },
  { uri: 'test://watched-resource', name: 'watched-resource', description: 'A resource to subscribe to', mimeType: 'text/plain' },
];

const PROMPTS = [
  { name: 'test_simple_prompt', description: 'A simple prompt' },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with arguments',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt with an embedded resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  { name: 'test_prompt_with_image', description: 'A prompt with an image' },
  { name: 'test_input_required_result_prompt', description: 'A prompt that asks the user first (MRTR)' },
];

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const argsOf = (params: unknown): Record<string, unknown> =>
  ((params as { arguments?: Record<string, unknown> } | undefined)?.arguments ?? {});

/** `resources/*`, `prompts/*` and `completion/complete` as plain methods of the MCP server. */
export const conformanceMethods: MethodTable = {
  'resources/list': () => ({ resources: RESOURCES }),
  'resources/templates/list': () => ({
    resourceTemplates: [{ uriTemplate: 'test://template/{id}/data', name: 'template', description: 'A resource template', mimeType: 'application/json' }],
  }),
  'resources/read': (params: unknown) => {
    const uri = str((params as { uri?: unknown } | undefined)?.uri);
    switch (uri) {
      case 'test://static-text':
        return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
      case 'test://static-binary':
        return { contents: [{ uri, mimeType: 'image/png', blob: PNG }] };
      case 'test://watched-resource':
        return { contents: [{ uri, mimeType: 'text/plain', text: 'Watched resource content.' }] };
    }
    const match = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
    if (match !== null) {
      const id = match[1]!;
      return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] };
    }
    throw new JsonRpcError(ErrorCode.InvalidParams, `Resource not found: ${uri}`, { uri });
  },
  'prompts/list': () => ({ prompts: PROMPTS }),
  'prompts/get': async (params: unknown, ctx) => {
    const name = str((params as { name?: unknown } | undefined)?.name);
    const args = argsOf(params);
    switch (name) {
      case 'test_simple_prompt':
        return { messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] };
      case 'test_prompt_with_arguments':
        return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${str(args['arg1'])}', arg2='${str(args['arg2'])}'` } }] };
      case 'test_prompt_with_embedded_resource':
        return {
          messages: [
            { role: 'user', content: { type: 'resource', resource: { uri: str(args['resourceUri']), mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
            { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
          ],
        };
      case 'test_prompt_with_image':
        return {
          messages: [
            { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
            { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
          ],
        };
      case 'test_input_required_result_prompt': {
        const { user_name } = (await requestInput(ctx).input({ user_name: askName('Who is this prompt for?') })) as { user_name: { content?: { name?: string } } };
        return { messages: [{ role: 'user', content: { type: 'text', text: `A prompt for ${user_name.content?.name ?? 'someone'}.` } }] };
      }
    }
    throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`, { name });
  },
  'completion/complete': (params: unknown) => {
    const value = str((params as { argument?: { value?: unknown } } | undefined)?.argument?.value);
    const values = ['paris', 'park', 'party'].filter((word) => word.startsWith(value));
    return { completion: { values, total: values.length, hasMore: false } };
  },
};

/** What the fixture declares besides tools. */
export const conformanceCapabilities = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  logging: {},
  completions: {},
};
