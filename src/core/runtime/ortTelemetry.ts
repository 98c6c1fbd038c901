/**
 * ONNX Runtime's telemetry, off, for the process that imports this module. The Linux build of
 * onnxruntime-node 1.30 uploads usage events by default: about 9 s after a session is created it
 * resolves mobile.events.data.microsoft.com, and it keeps a device id and an event queue under
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime/. Tokenscope promises that nothing leaves the machine.
 *
 * The only switch onnxruntime-node 1.30 has is an environment variable, read by the native library
 * when it sets up: the Node binding creates its OrtEnv itself and exposes no way to call the C API's
 * DisableTelemetryEvents(), and no session option covers it. So every module that loads
 * onnxruntime-node imports this one first, for its side effect (Node copies process.env changes into
 * the C environment), and the model process also gets the variable from the client that forks it.
 * Never import this from the extension host: it would change the environment every extension shares.
 * test/unit/privacy/noNetwork.test.ts checks the result with strace in a network namespace.
 */
import { ORT_TELEMETRY_OFF_ENV } from '../modelProcess/protocol';

Object.assign(process.env, ORT_TELEMETRY_OFF_ENV);
