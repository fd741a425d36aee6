// Command -> body codec, the one table decode and encode dispatch on.
import type { BodyCodec } from './body.js';
import { alertNotificationCodec, cancelSmCodec, dataSmCodec, messageIdRespCodec, querySmCodec, querySmRespCodec,
  replaceSmCodec, shortMessageCodec } from './body-message.js';
import { submitMultiCodec, submitMultiRespCodec } from './body-multi.js';
import { bindCodec, bindRespCodec, emptyCodec, outbindCodec } from './body-session.js';
import type { CommandName } from './commands.js';
import { CommandId } from './commands.js';

export const CODECS: { readonly [N in CommandName]: BodyCodec } = {
  generic_nack: emptyCodec('generic_nack'),
  bind_receiver: bindCodec('bind_receiver'),
  bind_receiver_resp: bindRespCodec('bind_receiver_resp'),
  bind_transmitter: bindCodec('bind_transmitter'),
  bind_transmitter_resp: bindRespCodec('bind_transmitter_resp'),
  query_sm: querySmCodec,
  query_sm_resp: querySmRespCodec,
  submit_sm: shortMessageCodec('submit_sm'),
  submit_sm_resp: messageIdRespCodec('submit_sm_resp'),
  deliver_sm: shortMessageCodec('deliver_sm'),
  deliver_sm_resp: messageIdRespCodec('deliver_sm_resp'),
  unbind: emptyCodec('unbind'),
  unbind_resp: emptyCodec('unbind_resp'),
  replace_sm: replaceSmCodec,
  replace_sm_resp: emptyCodec('replace_sm_resp'),
  cancel_sm: cancelSmCodec,
  cancel_sm_resp: emptyCodec('cancel_sm_resp'),
  bind_transceiver: bindCodec('bind_transceiver'),
  bind_transceiver_resp: bindRespCodec('bind_transceiver_resp'),
  outbind: outbindCodec,
  enquire_link: emptyCodec('enquire_link'),
  enquire_link_resp: emptyCodec('enquire_link_resp'),
  submit_multi: submitMultiCodec,
  submit_multi_resp: submitMultiRespCodec,
  alert_notification: alertNotificationCodec,
  data_sm: dataSmCodec,
  data_sm_resp: messageIdRespCodec('data_sm_resp'),
};

// Ids above 2^30 are not small integers, so a Map keyed by them hashes doubles; two dense arrays
// indexed by the low bits are cheaper (all SMPP 3.4 ids are <= 0x103 once bit 31 is cleared).
const LOW_MAX = 0x104;
const requests: (BodyCodec | undefined)[] = new Array<BodyCodec | undefined>(LOW_MAX).fill(undefined);
const responses: (BodyCodec | undefined)[] = new Array<BodyCodec | undefined>(LOW_MAX).fill(undefined);
for (const name of Object.keys(CODECS) as CommandName[]) {
  const id = CommandId[name];
  const table = id >= 0x80000000 ? responses : requests;
  table[id & 0x7fffffff] = CODECS[name];
}

export function codecForId(id: number): BodyCodec | undefined {
  if (id >= 0x80000000) {
    const low = id - 0x80000000;
    return low < LOW_MAX ? responses[low] : undefined;
  }
  return id < LOW_MAX ? requests[id] : undefined;
}
