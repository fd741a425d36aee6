// Message ids the way SMSCs write them: hex (like many Logica-derived SMSCs), decimal, or UUIDs.
// Counters start at a seeded offset so two simulators (or two runs) rarely hand out the same ids.

import { randomUUID } from 'node:crypto';

export const ID_FORMATS = ['hex', 'decimal', 'uuid'] as const;
export type IdFormat = (typeof ID_FORMATS)[number];

/** How the receipt writes the id: as the submit response did, or in decimal (a hex id's value), as
 *  some SMSCs do (jasmin#1129) — smppd's `message_id: auto` must match either. */
export const RECEIPT_ID_STYLES = ['same', 'decimal'] as const;
export type ReceiptIdStyle = (typeof RECEIPT_ID_STYLES)[number];

export type IdGenerator = () => string;

export function createIdGenerator(format: IdFormat, start: number): IdGenerator {
  let n = start;
  switch (format) {
    case 'hex':
      // 8+ uppercase hex digits, leading zeros kept: '0A3F19C2'.
      return () => (n++).toString(16).toUpperCase().padStart(8, '0');
    case 'decimal':
      return () => String(n++).padStart(10, '0');
    case 'uuid':
      return () => randomUUID();
  }
}

/** The id as the receipt carries it. */
export function receiptIdOf(id: string, format: IdFormat, style: ReceiptIdStyle): string {
  return style === 'decimal' && format === 'hex' ? BigInt(`0x${id}`).toString() : id;
}
