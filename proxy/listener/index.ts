// Public API of the client side (proxy/listener): listeners, bound client sessions, the registry.
export { DEADLINE_GRACE_MS, createListener } from './listener.js';
export { createClientRegistry } from './client-registry.js';
export type { ClientRegistryOptions } from './client-registry.js';
export type { ClientSlots } from './client-slots.js';
export type {
  ClientDeliveryPdu,
  ClientRegistry,
  ClientRequestPdu,
  ClientSession,
  DeliverDone,
  HandleRequest,
  HandleRequestWith,
  Listener,
  ListenerDeps,
  ListenerMetrics,
  ListenerStats,
  MutableClientRegistry,
  RequestContext,
  RequestReply,
} from './types.js';
export { replyWhenSettled, toHandleRequestWith } from './types.js';
