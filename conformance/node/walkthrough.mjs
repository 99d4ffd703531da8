// The Azure OpenAI Assistants code-interpreter walkthrough, run with the
// official Node `openai` package against Plotline's local Assistants API.
//
//   PLOTLINE_URL=http://127.0.0.1:8765 PLOTLINE_API_KEY=… PLOTLINE_CLIENT=azure node walkthrough.mjs
//
// PLOTLINE_URL      the server's root (no /v1)
// PLOTLINE_API_KEY  the server's key
// PLOTLINE_CLIENT   "openai" (OpenAI client, baseURL = root + "/v1", the
//                   default) or "azure" (AzureOpenAI client, endpoint = root,
//                   apiVersion 2024-05-01-preview)
// PLOTLINE_MODEL    the model (Azure: deployment) the assistants name; default gpt-4o
// PLOTLINE_TRACE=1  print every streamed event
//
// The model behind the server is expected to be the scripted one of
// app/api/node_test.go, which answers the walkthrough's questions in a known
// way (python that reads sales.csv and draws a chart, then text; a function
// call for the exchange-rate questions). Every step asserts what the hosted
// API returned for it. The script goes on after a failed check when later
// steps can still run, prints every failure, and exits 1 if there was any.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI, { AzureOpenAI, toFile } from 'openai';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = (process.env.PLOTLINE_URL ?? '').replace(/\/+$/, '');
const apiKey = process.env.PLOTLINE_API_KEY ?? '';
const which = process.env.PLOTLINE_CLIENT || 'openai';
const model = process.env.PLOTLINE_MODEL || 'gpt-4o';
const apiVersion = '2024-05-01-preview';
if (!root || !apiKey || !['openai', 'azure'].includes(which)) {
  console.error('usage: PLOTLINE_URL=http://127.0.0.1:PORT PLOTLINE_API_KEY=KEY [PLOTLINE_CLIENT=openai|azure] node walkthrough.mjs');
  process.exit(2);
}

// The clients would read these in place of the settings above.
for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_VERSION']) delete process.env[name];

// maxRetries 0: a retried request would hide a server error.
const common = { apiKey, maxRetries: 0, timeout: 120_000 };
const client =
  which === 'azure'
    ? new AzureOpenAI({ ...common, endpoint: root, apiVersion })
    : new OpenAI({ ...common, baseURL: root + '/v1' });

// --- checks ---------------------------------------------------------------

const failures = [];
let checks = 0;
let currentStep = '';

// check records a failed expectation and lets the walkthrough go on.
function check(ok, what, got) {
  checks++;
  if (!ok) {
    const msg = `${currentStep}: ${what}` + (got === undefined ? '' : `; got ${show(got)}`);
    failures.push(msg);
    console.log(`    FAIL ${what}` + (got === undefined ? '' : `; got ${show(got)}`));
  }
  return ok;
}

function show(v) {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v, null, 0);
  return s && s.length > 600 ? s.slice(0, 600) + '…' : s;
}

// need is a check the next steps depend on: it stops the walkthrough.
function need(ok, what, got) {
  if (!check(ok, what, got)) throw new Stop(what);
}

class Stop extends Error {}

// A step runs after an earlier step failed only if it is standalone: the
// others use what the steps before them made.
const steps = [];
function step(name, fn, { standalone = false } = {}) {
  steps.push({ name, fn, standalone });
}

const isSeconds = (t) => Number.isInteger(t) && t > 1_600_000_000 && t < 10_000_000_000;
const trace = process.env.PLOTLINE_TRACE ? (e) => console.log(`      ${e.event ?? '(no event name)'} ${show(e.data ?? e)}`) : () => {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function textOf(message) {
  return message.content
    .filter((c) => c.type === 'text')
    .map((c) => c.text.value)
    .join('');
}

// The fields of the Assistants v2 objects (the API reference's shapes).
const fields = {
  assistant: ['id', 'object', 'created_at', 'name', 'description', 'model', 'instructions', 'tools', 'tool_resources', 'metadata', 'temperature', 'top_p', 'response_format'],
  thread: ['id', 'object', 'created_at', 'tool_resources', 'metadata'],
  message: ['id', 'object', 'created_at', 'thread_id', 'status', 'incomplete_details', 'completed_at', 'incomplete_at', 'role', 'content', 'assistant_id', 'run_id', 'attachments', 'metadata'],
  run: ['id', 'object', 'created_at', 'thread_id', 'assistant_id', 'status', 'required_action', 'last_error', 'expires_at', 'started_at', 'cancelled_at', 'failed_at', 'completed_at', 'incomplete_details', 'model', 'instructions', 'tools', 'metadata', 'usage', 'temperature', 'top_p', 'max_prompt_tokens', 'max_completion_tokens', 'truncation_strategy', 'response_format', 'tool_choice', 'parallel_tool_calls'],
  step: ['id', 'object', 'created_at', 'assistant_id', 'thread_id', 'run_id', 'type', 'status', 'step_details', 'last_error', 'expired_at', 'cancelled_at', 'failed_at', 'completed_at', 'metadata', 'usage'],
  file: ['id', 'object', 'bytes', 'created_at', 'filename', 'purpose'],
};

// hasFields checks that obj has every field of its kind (null allowed).
function hasFields(kind, obj) {
  const missing = fields[kind].filter((k) => !(k in (obj ?? {})));
  return check(missing.length === 0, `the ${kind} has every v2 field`, { missing });
}

// isList checks a list page's envelope.
function isList(page) {
  const b = page.body ?? {};
  const ids = (b.data ?? []).map((x) => x.id);
  return check(
    b.object === 'list' && b.first_id === (ids[0] ?? null) && b.last_id === (ids[ids.length - 1] ?? null) && typeof b.has_more === 'boolean',
    'the list is {object:"list", data, first_id, last_id, has_more}',
    { object: b.object, first_id: b.first_id, last_id: b.last_id, has_more: b.has_more, ids },
  );
}

function runSummary(run) {
  return { id: run.id, status: run.status, last_error: run.last_error, required_action: run.required_action };
}

// --- the walkthrough's data ----------------------------------------------

const csvPath = path.join(here, 'sales.csv');
const csvText = fs.readFileSync(csvPath, 'utf8');
const csvRows = csvText.trim().split('\n').slice(1).map((l) => l.split(','));
const totalRevenue = csvRows.reduce((s, r) => s + Number(r[2]), 0);
const regions = { North: 'Anna', South: 'Bo', East: 'Chen', West: 'Dana' };

const instructions =
  'You turn data into clear charts. You can write and run Python in a sandbox. ' +
  'For a chart: write the code, show it, run it, and show the chart; if the code fails, ' +
  'show the error, fix the code and run it again.';

const s = {}; // what the steps share

// --- steps ----------------------------------------------------------------

step('create an assistant with code_interpreter and instructions', async () => {
  const a = await client.beta.assistants.create({
    name: 'Data Visualization',
    instructions,
    tools: [{ type: 'code_interpreter' }],
    model,
  });
  need(typeof a.id === 'string' && a.id.startsWith('asst_'), 'assistant id starts with asst_', a.id);
  check(a.object === 'assistant', 'object is "assistant"', a.object);
  check(a.name === 'Data Visualization', 'name kept', a.name);
  check(a.instructions === instructions, 'instructions kept', a.instructions);
  check(a.model === model, 'model kept', a.model);
  check(show(a.tools) === show([{ type: 'code_interpreter' }]), 'tools are [code_interpreter]', a.tools);
  check(isSeconds(a.created_at), 'created_at in seconds', a.created_at);
  check(a.metadata !== null && typeof a.metadata === 'object', 'metadata is an object', a.metadata);
  hasFields('assistant', a);
  const again = await client.beta.assistants.retrieve(a.id);
  check(again.id === a.id && again.instructions === instructions, 'retrieve returns the assistant', again);
  s.assistant = a;
});

step('upload a file with purpose assistants and attach it through tool_resources', async () => {
  // As the walkthrough does: a read stream of a local file.
  const f = await client.files.create({ file: fs.createReadStream(csvPath), purpose: 'assistants' });
  need(typeof f.id === 'string' && f.id.length > 0, 'file has an id', f);
  check(f.object === 'file', 'object is "file"', f.object);
  check(f.purpose === 'assistants', 'purpose is assistants', f.purpose);
  check(f.filename === 'sales.csv', 'filename is sales.csv', f.filename);
  check(f.bytes === Buffer.byteLength(csvText), `bytes is ${Buffer.byteLength(csvText)}`, f.bytes);
  check(isSeconds(f.created_at), 'created_at in seconds', f.created_at);
  hasFields('file', f);
  const got = await client.files.retrieve(f.id);
  check(got.id === f.id && got.filename === 'sales.csv', 'files.retrieve returns it', got);
  const content = Buffer.from(await (await client.files.content(f.id)).arrayBuffer()).toString('utf8');
  check(content === csvText, 'files.content returns the uploaded bytes', content);
  s.csv = f;

  // A second file made in memory with toFile, for the thread's tool_resources.
  const g = await client.files.create({
    file: await toFile(Buffer.from(JSON.stringify(regions)), 'regions.json', { type: 'application/json' }),
    purpose: 'assistants',
  });
  need(typeof g.id === 'string' && g.id.length > 0, 'toFile upload has an id', g);
  check(g.filename === 'regions.json', 'toFile filename is regions.json', g.filename);
  s.json = g;

  const a = await client.beta.assistants.update(s.assistant.id, {
    tool_resources: { code_interpreter: { file_ids: [f.id] } },
  });
  need(
    show(a.tool_resources?.code_interpreter?.file_ids) === show([f.id]),
    'assistant tool_resources.code_interpreter.file_ids is [the csv]',
    a.tool_resources,
  );
  check(a.instructions === instructions, 'update keeps the instructions', a.instructions);
  const listed = await client.files.list({ purpose: 'assistants' });
  const ids = listed.data.map((x) => x.id);
  isList(listed);
  check(ids.includes(f.id) && ids.includes(g.id), 'files.list({purpose}) lists both uploads', ids);
});

step('create a thread with a message', async () => {
  const question = 'Create a visualization of the monthly revenue in sales.csv, and tell me the total revenue.';
  const t = await client.beta.threads.create({
    messages: [{ role: 'user', content: question }],
    tool_resources: { code_interpreter: { file_ids: [s.json.id] } },
  });
  need(typeof t.id === 'string' && t.id.startsWith('thread_'), 'thread id starts with thread_', t.id);
  check(t.object === 'thread', 'object is "thread"', t.object);
  check(isSeconds(t.created_at), 'created_at in seconds', t.created_at);
  check(show(t.tool_resources?.code_interpreter?.file_ids) === show([s.json.id]), 'thread tool_resources kept', t.tool_resources);
  hasFields('thread', t);
  const msgs = await client.beta.threads.messages.list(t.id);
  need(msgs.data.length === 1, 'the thread has one message', msgs.data);
  const m = msgs.data[0];
  check(m.object === 'thread.message', 'object is "thread.message"', m.object);
  check(m.role === 'user', 'role is user', m.role);
  check(textOf(m) === question, 'the message text is the question', m.content);
  check(m.content[0]?.text && Array.isArray(m.content[0].text.annotations), 'text content has annotations []', m.content);
  check(m.thread_id === t.id, 'thread_id set', m.thread_id);
  hasFields('message', m);
  s.thread = t;
});

step('create a run and poll it to completion with runs.retrieve', async () => {
  const run = await client.beta.threads.runs.create(s.thread.id, { assistant_id: s.assistant.id });
  need(typeof run.id === 'string' && run.id.startsWith('run_'), 'run id starts with run_', run.id);
  check(run.object === 'thread.run', 'object is "thread.run"', run.object);
  check(['queued', 'in_progress'].includes(run.status), 'a new run is queued or in_progress', run.status);
  check(run.thread_id === s.thread.id && run.assistant_id === s.assistant.id, 'thread_id and assistant_id set', run);
  check(run.instructions === instructions, "the run carries the assistant's instructions", run.instructions);
  check(run.tools?.some((t) => t.type === 'code_interpreter'), 'the run has the code_interpreter tool', run.tools);
  hasFields('run', run);
  // The walkthrough's loop: retrieve until the run leaves queued/in_progress.
  let r = run;
  const deadline = Date.now() + 120_000;
  let polls = 0;
  while (['queued', 'in_progress', 'cancelling'].includes(r.status) && Date.now() < deadline) {
    await sleep(200);
    r = await client.beta.threads.runs.retrieve(run.id, { thread_id: s.thread.id });
    polls++;
  }
  need(r.status === 'completed', 'the run completed', runSummary(r));
  check(r.id === run.id, 'retrieve returns the same run', r.id);
  check(isSeconds(r.completed_at) && isSeconds(r.started_at), 'started_at and completed_at set', r);
  check(r.last_error === null, 'last_error is null', r.last_error);
  check(r.usage && r.usage.total_tokens > 0, 'usage reported', r.usage);
  const runs = await client.beta.threads.runs.list(s.thread.id);
  check(runs.data.length === 1 && runs.data[0].id === run.id, 'runs.list has the run', runs.data.map((x) => x.id));
  s.run = r;
  console.log(`    (${polls} polls)`);
});

step('list the messages', async () => {
  const msgs = await client.beta.threads.messages.list(s.thread.id);
  check(msgs.data.length === 2, 'two messages: the question and the answer', msgs.data.map((m) => m.role));
  const newest = msgs.data[0];
  need(newest.role === 'assistant', 'the newest message (default order desc) is the assistant', newest.role);
  check(newest.run_id === s.run.id, 'the answer has the run_id', newest.run_id);
  check(newest.assistant_id === s.assistant.id, 'the answer has the assistant_id', newest.assistant_id);
  check(newest.status === 'completed', 'the answer is completed', newest.status);
  isList(msgs);
  check(
    textOf(newest).includes(String(totalRevenue)),
    `the answer gives the total revenue ${totalRevenue}, computed by python from the uploaded csv`,
    textOf(newest),
  );
  check(textOf(newest).includes('4 regions'), 'python read the thread-level regions.json too', textOf(newest));
  check(msgs.data[msgs.data.length - 1].role === 'user', 'the oldest message is the question', msgs.data.map((m) => m.role));
  const asc = await client.beta.threads.messages.list(s.thread.id, { order: 'asc' });
  check(show(asc.data.map((m) => m.id)) === show(msgs.data.map((m) => m.id).reverse()), 'order asc reverses the list', asc.data.map((m) => m.id));
  const byRun = await client.beta.threads.messages.list(s.thread.id, { run_id: s.run.id });
  check(byRun.data.length === 1 && byRun.data[0].id === newest.id, 'run_id filter gives only the answer', byRun.data.map((m) => m.id));
  const ids = [];
  for await (const m of client.beta.threads.messages.list(s.thread.id, { limit: 1 })) ids.push(m.id);
  check(show(ids) === show(msgs.data.map((m) => m.id)), 'auto-pagination with limit 1 yields every message once', ids);

  const stepsList = await client.beta.threads.runs.steps.list(s.run.id, { thread_id: s.thread.id, order: 'asc' });
  const code = stepsList.data.find((st) => st.type === 'tool_calls');
  need(code, 'the run has a tool_calls step', stepsList.data.map((st) => st.type));
  hasFields('step', code);
  check(code.status === 'completed', 'the tool_calls step is completed', code.status);
  const call = code.step_details.tool_calls[0];
  need(call?.type === 'code_interpreter', 'the tool call is code_interpreter', call);
  check(call.code_interpreter.input.includes('/mnt/data/sales.csv'), 'the code reads /mnt/data/sales.csv', call.code_interpreter.input);
  const image = call.code_interpreter.outputs.find((o) => o.type === 'image');
  check(image?.image?.file_id, 'the code_interpreter outputs have an image', call.code_interpreter.outputs);
  const logs = call.code_interpreter.outputs.find((o) => o.type === 'logs');
  check(logs?.logs?.includes(String(totalRevenue)), 'the code_interpreter logs show the total', call.code_interpreter.outputs);
  const creation = stepsList.data.find((st) => st.type === 'message_creation');
  check(creation?.step_details?.message_creation?.message_id === newest.id, 'a message_creation step points at the answer', creation);
  s.code = call.code_interpreter.input;
  s.stepImage = image?.image?.file_id;
  s.answer = newest;
});

step('take the image_file id from the newest message and download it with files.content', async () => {
  const m = s.answer;
  // The walkthrough reads data[0].content[0].image_file.file_id: the hosted
  // API put the chart before the text of the message.
  check(m.content[0]?.type === 'image_file', 'content[0] of the newest message is the image_file (as the walkthrough reads it)', m.content.map((c) => c.type));
  const part = m.content.find((c) => c.type === 'image_file');
  need(part?.image_file?.file_id, 'the newest message has an image_file part', m.content);
  const id = part.image_file.file_id;
  check(!s.stepImage || s.stepImage === id, "the message's image is the code step's image output", { message: id, step: s.stepImage });
  const res = await client.files.content(id);
  check(res.status === 200, 'status 200', res.status);
  check((res.headers.get('content-type') ?? '').startsWith('image/png'), 'Content-Type image/png', res.headers.get('content-type'));
  const png = Buffer.from(await res.arrayBuffer());
  need(png.length > 1000, 'the image has bytes', png.length);
  check(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'it starts with the PNG signature', png.subarray(0, 8).toString('hex'));
  const meta = await client.files.retrieve(id);
  check(meta.purpose === 'assistants_output', 'the image file has purpose assistants_output', meta.purpose);
  check(meta.bytes === png.length, 'files.retrieve bytes = downloaded length', { meta: meta.bytes, got: png.length });
  s.image = id;
});

step('ask a follow-up on the same thread (runs.createAndPoll)', async () => {
  const q = 'Show me the code you used to generate the visualization.';
  const m = await client.beta.threads.messages.create(s.thread.id, { role: 'user', content: q });
  check(m.role === 'user' && textOf(m) === q, 'messages.create returns the message', m);
  const run = await client.beta.threads.runs.createAndPoll(s.thread.id, { assistant_id: s.assistant.id }, { pollIntervalMs: 200 });
  need(run.status === 'completed', 'createAndPoll ends with a completed run', runSummary(run));
  const msgs = await client.beta.threads.messages.list(s.thread.id, { limit: 1 });
  const answer = msgs.data[0];
  need(answer?.role === 'assistant' && answer.run_id === run.id, "the newest message is this run's answer", answer);
  check(textOf(answer).includes(s.code), 'the answer shows the code of the first run (the model saw the earlier code step)', textOf(answer));
  check(msgs.has_more === true, 'has_more with limit 1', msgs.has_more);
  const all = await client.beta.threads.messages.list(s.thread.id);
  check(all.data.length === 4, 'the thread has four messages', all.data.map((x) => x.role));
});

step('runs.stream with its helpers (textDelta, toolCallDelta, finalMessages, finalRun)', async () => {
  const q = 'I prefer visualizations in dark mode, can you change the colors to make a dark mode version of this visualization?';
  await client.beta.threads.messages.create(s.thread.id, { role: 'user', content: q });
  const events = [];
  let text = '';
  let deltas = 0;
  let created = '';
  let code = '';
  const images = [];
  const imagesDone = [];
  const stream = client.beta.threads.runs
    .stream(s.thread.id, { assistant_id: s.assistant.id })
    .on('event', (e) => {
      events.push(e.event);
      trace(e);
    })
    .on('textCreated', () => (created = 'text'))
    .on('imageFileDone', (image) => imagesDone.push(image.file_id))
    .on('textDelta', (delta) => {
      text += delta.value;
      deltas++;
    })
    .on('toolCallDelta', (delta) => {
      if (delta.type === 'code_interpreter') {
        if (delta.code_interpreter?.input) code += delta.code_interpreter.input;
        for (const o of delta.code_interpreter?.outputs ?? []) if (o.type === 'image') images.push(o.image.file_id);
      }
    });
  const run = await stream.finalRun();
  const messages = await stream.finalMessages();
  need(run.status === 'completed', 'finalRun() is completed', runSummary(run));
  for (const name of ['thread.run.created', 'thread.run.queued', 'thread.run.in_progress', 'thread.run.step.created', 'thread.run.step.delta', 'thread.message.created', 'thread.message.delta', 'thread.message.completed', 'thread.run.step.completed', 'thread.run.completed']) {
    check(events.includes(name), `the stream had ${name}`, [...new Set(events)]);
  }
  check(events[0] === 'thread.run.created', 'the first event is thread.run.created', events[0]);
  check(events[events.length - 1] === 'thread.run.completed', 'the last event is thread.run.completed', events.slice(-3));
  check(created === 'text', 'textCreated fired', created);
  check(deltas > 1, 'the text came in more than one delta', deltas);
  need(messages.length >= 1, 'finalMessages() has the answer', messages);
  const last = messages[messages.length - 1];
  check(text.length > 0 && text === textOf(last), 'the textDelta pieces add up to the final message text', { assembled: text, final: textOf(last) });
  check(text.includes('dark mode'), 'the answer is the dark-mode one', text);
  check(code.includes('dark_background'), 'toolCallDelta streamed the dark-mode code', code);
  check(images.length === 1, 'toolCallDelta streamed one image output', images);
  const stored = await client.beta.threads.messages.retrieve(last.id, { thread_id: s.thread.id });
  check(textOf(stored) === text, 'messages.retrieve has the streamed text', textOf(stored));
  check(stored.content.some((c) => c.type === 'image_file' && c.image_file.file_id === images[0]), 'the stored message has the streamed image', stored.content);
  // The SDK builds finalMessages() from thread.message.created and the
  // deltas only: every part of the message must come as a delta.
  const parts = (content) => content.map(({ index, ...part }) => part); // the SDK keeps the deltas' index
  check(show(parts(last.content)) === show(stored.content), 'finalMessages() assembled from the deltas equals the stored message content', { assembled: parts(last.content), stored: stored.content });
  check(imagesDone.length === 1 && imagesDone[0] === images[0], 'imageFileDone fired for the chart (an image_file part came as a message delta)', imagesDone);
  const steps = await stream.finalRunSteps();
  const ci = steps.find((st) => st.type === 'tool_calls');
  check(ci?.step_details?.tool_calls?.[0]?.code_interpreter?.input === code, 'finalRunSteps() has the streamed code', ci?.step_details);
  if (images[0]) {
    const png = Buffer.from(await (await client.files.content(images[0])).arrayBuffer());
    check(png.subarray(0, 4).toString('latin1') === '\x89PNG', 'the dark-mode chart is a PNG', png.subarray(0, 8).toString('hex'));
    check(images[0] !== s.image, 'the dark-mode chart is a new file', images[0]);
  }
});

const rateTool = {
  type: 'function',
  function: {
    name: 'get_exchange_rate',
    description: 'The exchange rate from USD to a currency.',
    parameters: {
      type: 'object',
      properties: { currency: { type: 'string', description: 'ISO 4217 code, e.g. EUR' } },
      required: ['currency'],
    },
  },
};
const rates = { EUR: '0.92', GBP: '0.79', JPY: '151.50' };

// requiredCall checks a run that waits on get_exchange_rate and returns the call.
function requiredCall(run, currency) {
  need(run.status === 'requires_action', 'the run requires action', runSummary(run));
  check(run.required_action?.type === 'submit_tool_outputs', 'required_action.type is submit_tool_outputs', run.required_action);
  const calls = run.required_action?.submit_tool_outputs?.tool_calls ?? [];
  need(calls.length === 1, 'one tool call', calls);
  const c = calls[0];
  check(c.type === 'function' && c.function.name === 'get_exchange_rate', 'the call is get_exchange_rate', c);
  let args = {};
  try {
    args = JSON.parse(c.function.arguments);
  } catch {
    check(false, 'arguments are JSON', c.function.arguments);
  }
  check(args.currency === currency, `the call asks for ${currency}`, args);
  check(typeof c.id === 'string' && c.id.length > 0, 'the call has an id', c.id);
  return c;
}

async function lastAnswer(threadId) {
  const msgs = await client.beta.threads.messages.list(threadId, { limit: 1 });
  return msgs.data[0];
}

step('a function tool answered with submitToolOutputs', async () => {
  const a = await client.beta.assistants.create({
    name: 'Currency helper',
    instructions: 'Convert amounts with get_exchange_rate.',
    tools: [rateTool],
    model,
  });
  check(a.tools[0]?.function?.name === 'get_exchange_rate', 'the function tool is kept', a.tools);
  check(show(a.tools[0]?.function?.parameters) === show(rateTool.function.parameters), 'its parameters are kept', a.tools[0]?.function?.parameters);
  s.fnAssistant = a;
  const t = await client.beta.threads.create({ messages: [{ role: 'user', content: 'What is 100 USD in EUR?' }] });
  s.fnThread = t;

  // submitToolOutputs, then the walkthrough's manual poll.
  let run = await client.beta.threads.runs.createAndPoll(t.id, { assistant_id: a.id }, { pollIntervalMs: 200 });
  let c = requiredCall(run, 'EUR');
  const inFlight = await client.beta.threads.runs.retrieve(run.id, { thread_id: t.id });
  check(inFlight.status === 'requires_action', 'retrieve shows requires_action while waiting', inFlight.status);
  const submitted = await client.beta.threads.runs.submitToolOutputs(run.id, {
    thread_id: t.id,
    tool_outputs: [{ tool_call_id: c.id, output: rates.EUR }],
  });
  check(submitted.id === run.id && submitted.object === 'thread.run', 'submitToolOutputs returns the run', submitted);
  check(['queued', 'in_progress', 'completed'].includes(submitted.status), 'the run goes on after the outputs', submitted.status);
  run = await client.beta.threads.runs.poll(run.id, { thread_id: t.id }, { pollIntervalMs: 200 });
  need(run.status === 'completed', 'the run completed after submitToolOutputs', runSummary(run));
  let answer = await lastAnswer(t.id);
  check(textOf(answer).includes('92.00 EUR'), 'the answer used the submitted rate', textOf(answer));
  const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: t.id });
  const fcall = steps.data.find((st) => st.type === 'tool_calls')?.step_details?.tool_calls?.[0];
  check(fcall?.type === 'function' && fcall.function.output === rates.EUR, 'the run step records the function output', fcall);

  // submitToolOutputsAndPoll.
  await client.beta.threads.messages.create(t.id, { role: 'user', content: 'And 100 USD in GBP?' });
  run = await client.beta.threads.runs.createAndPoll(t.id, { assistant_id: a.id }, { pollIntervalMs: 200 });
  c = requiredCall(run, 'GBP');
  run = await client.beta.threads.runs.submitToolOutputsAndPoll(
    run.id,
    { thread_id: t.id, tool_outputs: [{ tool_call_id: c.id, output: rates.GBP }] },
    { pollIntervalMs: 200 },
  );
  need(run.status === 'completed', 'submitToolOutputsAndPoll ends with a completed run', runSummary(run));
  answer = await lastAnswer(t.id);
  check(textOf(answer).includes('79.00 GBP'), 'the answer used the GBP rate', textOf(answer));

  // runs.stream to requires_action, then submitToolOutputsStream.
  await client.beta.threads.messages.create(t.id, { role: 'user', content: 'And 100 USD in JPY?' });
  const first = client.beta.threads.runs.stream(t.id, { assistant_id: a.id });
  const firstEvents = [];
  first.on('event', (e) => firstEvents.push(e.event));
  run = await first.finalRun();
  check(firstEvents[firstEvents.length - 1] === 'thread.run.requires_action', 'the stream ends with thread.run.requires_action', firstEvents.slice(-3));
  c = requiredCall(run, 'JPY');
  let text = '';
  const second = client.beta.threads.runs
    .submitToolOutputsStream(run.id, { thread_id: t.id, tool_outputs: [{ tool_call_id: c.id, output: rates.JPY }] })
    .on('textDelta', (d) => (text += d.value));
  run = await second.finalRun();
  need(run.status === 'completed', 'submitToolOutputsStream ends with a completed run', runSummary(run));
  const msgs = await second.finalMessages();
  check(msgs.length === 1 && textOf(msgs[0]) === text, 'the streamed text is the final message', { text, msgs });
  check(text.includes('15150.00 JPY'), 'the streamed answer used the JPY rate', text);
}, { standalone: true });

step('a run the model fails: createAndPoll and runs.stream', async () => {
  const t = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Please answer with a model error.' }] });
  const run = await client.beta.threads.runs.createAndPoll(t.id, { assistant_id: s.assistant.id }, { pollIntervalMs: 200 });
  check(run.status === 'failed', 'createAndPoll ends with a failed run', runSummary(run));
  check(typeof run.last_error?.code === 'string' && run.last_error.message.length > 0, 'the failed run has last_error {code, message}', run.last_error);
  check(isSeconds(run.failed_at), 'failed_at set', run.failed_at);

  await client.beta.threads.messages.create(t.id, { role: 'user', content: 'Again, a model error please.' });
  const events = [];
  const stream = client.beta.threads.runs.stream(t.id, { assistant_id: s.assistant.id }).on('event', (e) => {
    events.push(e);
    trace(e);
  });
  let final;
  try {
    final = await stream.finalRun();
  } catch (e) {
    check(false, 'finalRun() of a failed run resolves (the failure is the run status, as the hosted API streamed it)', `${e.constructor.name}: ${e.message}`);
  }
  if (final) {
    check(final.status === 'failed' && final.last_error?.code, 'finalRun() is the failed run with last_error', runSummary(final));
  }
  const names = events.map((e) => e.event);
  check(names.every((n) => typeof n === 'string'), 'every event the SDK parsed has a name (an error event in a shape the SDK reads)', events.filter((e) => typeof e.event !== 'string'));
  check(names.includes('thread.run.failed'), 'the stream had thread.run.failed', names);
  await client.beta.threads.delete(t.id);
}, { standalone: true });

step('errors and clean-up', async () => {
  try {
    await client.beta.threads.runs.retrieve('run_doesnotexist', { thread_id: s.thread.id });
    check(false, 'an unknown run is an error');
  } catch (e) {
    check(e instanceof OpenAI.NotFoundError, 'an unknown run is a NotFoundError (404)', `${e.constructor.name} ${e.status} ${e.message}`);
  }
  const del = await client.beta.assistants.delete(s.fnAssistant.id);
  check(del.deleted === true && del.id === s.fnAssistant.id && del.object === 'assistant.deleted', 'assistants.delete', del);
  const tdel = await client.beta.threads.delete(s.fnThread.id);
  check(tdel.deleted === true && tdel.object === 'thread.deleted', 'threads.delete', tdel);
  const fdel = await client.files.delete(s.json.id);
  check(fdel.deleted === true && fdel.id === s.json.id, 'files.delete', fdel);
  try {
    await client.files.retrieve(s.json.id);
    check(false, 'a deleted file is gone');
  } catch (e) {
    check(e instanceof OpenAI.NotFoundError, 'a deleted file is a NotFoundError (404)', `${e.constructor.name} ${e.status}`);
  }
});

// --- run ------------------------------------------------------------------

const started = Date.now();
console.log(`walkthrough: ${which} client (${client.constructor.name}) against ${client.baseURL}`);
let stopped = false;
for (const { name, fn, standalone } of steps) {
  currentStep = name;
  if (stopped && !standalone) {
    console.log(`SKIP ${name}`);
    continue;
  }
  const before = failures.length;
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof Stop)) {
      const detail = e?.status ? `${e.constructor.name} ${e.status}: ${e.message}` : e?.stack ?? String(e);
      failures.push(`${name}: ${detail}`);
      console.log(`    ERROR ${detail}`);
    }
    stopped = true;
  }
  console.log(`${failures.length === before ? 'ok  ' : 'FAIL'} ${name}`);
}
const secs = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.log(`\nwalkthrough (${which}): FAILED, ${failures.length} of ${checks} checks in ${secs}s:`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exit(1);
}
console.log(`walkthrough (${which}): PASS, ${steps.length} steps, ${checks} checks in ${secs}s`);
