// A stand-in for the model process (src/model-process/main.ts) that speaks its protocol with no
// model: it starts in milliseconds, and its timing is the test's (FAKE_MODEL_PROCESS, JSON):
//   loadDelayMs      silence before answering a load (as ONNX Runtime building a session)
//   tokens           tokens per generation
//   tokenIntervalMs  silence between two tokens (as a slow forward pass)
//   heartbeatMs      heartbeats while generating, every this many ms (0: none)
// For ModelProcessClient's recovery tests (modelProcessRecovery.test.ts).
const config = { loadDelayMs: 0, tokens: 3, tokenIntervalMs: 0, heartbeatMs: 0, ...JSON.parse(process.env.FAKE_MODEL_PROCESS ?? '{}') };
const send = (message) => process.connected && process.send(message);
let loaded = null;
const generations = new Map();

const info = (request) => ({
  id: request.model,
  label: 'fake',
  dir: request.model,
  modelType: 'qwen2',
  contextLength: 128,
  eosTokenIds: [0],
  hasChatTemplate: false,
  templateSupportsThinking: false,
  specialTokens: {},
  pid: process.pid,
});

function generate(id) {
  if (!loaded) {
    send({ type: 'error', id, error: { name: 'ModelError', code: 'process', message: 'No model is loaded: load one before generating.' } });
    return;
  }
  const heartbeat = config.heartbeatMs > 0 ? setInterval(() => send({ type: 'heartbeat' }), config.heartbeatMs) : undefined;
  const state = { index: 0, timer: undefined, stop: () => {} };
  generations.set(id, state);
  const finish = () => {
    clearInterval(heartbeat);
    clearTimeout(state.timer);
    generations.delete(id);
  };
  state.stop = finish;
  send({ type: 'event', id, event: { type: 'start', promptTokens: 1, reusedTokens: 0, truncatedTokens: 0, seed: 0 } });
  const step = () => {
    if (state.index === config.tokens) {
      send({ type: 'event', id, event: { type: 'end', finishReason: 'length', text: 'x'.repeat(config.tokens), timings: { generatedTokens: config.tokens } } });
      send({ type: 'done', id });
      finish();
      return;
    }
    send({ type: 'event', id, event: { type: 'token', index: state.index, id: 1, text: 'x', logprob: 0, top: [] } });
    state.index++;
    state.timer = setTimeout(step, config.tokenIntervalMs);
  };
  state.timer = setTimeout(step, config.tokenIntervalMs);
}

process.on('message', (message) => {
  switch (message.type) {
    case 'load':
      setTimeout(() => {
        loaded = message.request;
        send({ type: 'loaded', id: message.id, info: info(message.request) });
      }, config.loadDelayMs);
      return;
    case 'unload':
      loaded = null;
      send({ type: 'unloaded', id: message.id });
      return;
    case 'generate':
      generate(message.id);
      return;
    case 'cancel':
      generations.get(message.id)?.stop();
      return;
    case 'ping':
      send({ type: 'pong', id: message.id, status: { model: loaded && info(loaded), activeGenerations: generations.size, rssBytes: 0, pid: process.pid } });
      return;
    case 'test-crash':
      process.exit(134);
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid, protocol: 1 });
