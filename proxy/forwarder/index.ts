// Public API of the forwarder (proxy/forwarder): the submit path, retries, receipts and MO back to clients.
export { createForwarder } from './forwarder.js';
export type { Forwarder, ForwarderConfig, ForwarderDeps, RequestClient } from './forwarder.js';
export type { ForwarderOptions } from './context.js';
export { affinityOf } from './submit.js';
export { detachPdu, receiptInfo, rewriteReceipt } from './receipts.js';
export type { ReceiptInfo } from './receipts.js';
export { ClusterErrorCode, asClusterFailure } from './ports.js';
export type {
  ClientRegistryPort,
  ClientRequest,
  ClientSessionPort,
  ClusterFailure,
  ClusterPort,
  SendOptions,
  SendResult,
  UpstreamDelivery,
  UpstreamRequest,
} from './ports.js';
