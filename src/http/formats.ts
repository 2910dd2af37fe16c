const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * RFC 3339 date-times that Neo4j's datetime() also takes: a real calendar day, no leap second, at
 * most nine fraction digits, an offset within ±18:00. ajv's own format lets some of these through,
 * and Neo4j then fails the whole statement.
 */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysIn(year!, month!)) return false;
  if (hour! > 23 || minute! > 59 || second! > 59) return false;
  if (m[8]) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (om > 59 || oh * 60 + om > 18 * 60) return false;
  }
  return true;
}

/** The custom formats handed to express-openapi-validator. */
export const FORMATS = {
  'date-time': { type: 'string' as const, validate: isDateTime },
};
