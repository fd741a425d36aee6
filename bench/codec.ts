// Codec throughput on one core: `npm run bench:codec`. Prints decode and encode rates for a typical
// submit_sm (international addresses, 140-octet text, two TLVs) and a deliver_sm receipt.
// Optional argument: seconds per measurement (default 2).
import { decodePdu, encodePdu } from '../proxy/smpp/index.js';
import type { Pdu } from '../proxy/smpp/index.js';

const text = 'Your verification code is 482913. It expires in 10 minutes. Do not share this code with anyone. ';
const submitSm: Pdu = {
  command: 'submit_sm',
  command_status: 0,
  sequence_number: 123456,
  service_type: '',
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: '+258840000001',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '+258840000002',
  esm_class: 0,
  protocol_id: 0,
  priority_flag: 0,
  schedule_delivery_time: '',
  validity_period: '',
  registered_delivery: 1,
  replace_if_present_flag: 0,
  data_coding: 0,
  sm_default_msg_id: 0,
  short_message: Buffer.from(text.repeat(2).slice(0, 140), 'latin1'),
  tlvs: { user_message_reference: 42, source_port: 9200 },
};

const deliverSm: Pdu = {
  command: 'deliver_sm',
  command_status: 0,
  sequence_number: 654321,
  service_type: '',
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: '+258840000002',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '+258840000001',
  esm_class: 0x04,
  protocol_id: 0,
  priority_flag: 0,
  schedule_delivery_time: '',
  validity_period: '',
  registered_delivery: 0,
  replace_if_present_flag: 0,
  data_coding: 0,
  sm_default_msg_id: 0,
  short_message: Buffer.from(
    'id:7f3a9c2e41b8 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:Your verification',
    'latin1',
  ),
  tlvs: { receipted_message_id: '7f3a9c2e41b8', message_state: 2 },
};

const seconds = Number(process.argv[2] ?? 2);
let sink = 0;

function measure(label: string, op: () => number): void {
  const batch = 10_000;
  // Warm-up lets the JIT optimise the hot paths before timing.
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) for (let i = 0; i < batch; i++) sink += op();
  let ops = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) sink += op();
    ops += batch;
    now = performance.now();
  }
  const rate = Math.round(ops / ((now - start) / 1000));
  console.log(`${label}: ${rate.toLocaleString('en-US')} ops/s`);
}

for (const [name, pdu] of [
  ['submit_sm', submitSm],
  ['deliver_sm receipt', deliverSm],
] as const) {
  const frame = encodePdu(pdu);
  const check = decodePdu(frame);
  if (!check.ok) throw new Error(`${name} fixture does not decode: ${check.reason}`);
  console.log(`${name}: ${frame.length} octets`);
  measure(`${name} decode`, () => {
    const r = decodePdu(frame);
    return r.ok ? r.pdu.sequence_number : 0;
  });
  measure(`${name} encode`, () => encodePdu(pdu).length);
}
if (sink === 0) console.log('');
