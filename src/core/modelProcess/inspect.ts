/**
 * Inspecting the model in the model process (attention, logit lens, embedding neighbours): the
 * client side of the `inspect` request. The forward pass runs there, never on the caller's thread.
 */
import type { InspectRequest, InspectResultFor } from '../runtime/inspectTypes';
import type { ModelProcessClient } from './client';

export function inspectModel<R extends InspectRequest>(client: ModelProcessClient, request: R, signal?: AbortSignal): Promise<InspectResultFor<R>> {
  return client.call({ type: 'inspect', request }, `inspecting the model (${request.kind})`, (message) => (message.type === 'inspected' && message.result.kind === request.kind ? (message.result as InspectResultFor<R>) : undefined), signal);
}
