import { isIPv6 } from 'node:net';

/**
 * Finds sensitive substrings in a text value. A detector costs a scan of every value of every
 * column it watches, so each one rejects values cheaply (`quick`) before running its pattern.
 */
export interface Detector {
  readonly name: string;
  /** Start/end offsets (end exclusive) of every match, in order, not overlapping. */
  find(value: string): Array<readonly [number, number]>;
}

/** Names of the built-in detectors, as rules spell them in `detect: [...]`. */
export const BUILTIN_DETECTORS = [
  'email', 'phone', 'credit_card', 'iban', 'us_ssn', 'ipv4', 'ipv6', 'jwt', 'aws_access_key', 'pem_private_key',
] as const;
export type BuiltinDetectorName = (typeof BUILTIN_DETECTORS)[number];

/**
 * A detector from a global pattern plus a validator. The validator answers how many characters of
 * the match are really the thing (0 rejects), so a candidate that swallowed a trailing word can
 * still match its valid prefix.
 */
export function patternDetector(
  name: string,
  pattern: RegExp,
  validate: (match: string) => number = (m) => m.length,
  quick?: (value: string) => boolean,
): Detector {
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  const re = new RegExp(pattern.source, flags.replace('y', ''));
  return {
    name,
    find(value) {
      const out: Array<readonly [number, number]> = [];
      if (quick && !quick(value)) return out;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(value)) !== null) {
        if (m[0].length === 0) { re.lastIndex++; continue; }
        const length = validate(m[0]);
        if (length > 0) out.push([m.index, m.index + length]);
      }
      return out;
    },
  };
}

/** A detector from a user's regular expression (rules' `detectors: [{ name, pattern }]`). */
export function customDetector(name: string, pattern: string, flags = ''): Detector {
  return patternDetector(name, new RegExp(pattern, flags.replace(/[gy]/g, '')));
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** IBAN lengths by country (ISO 13616 registry); other countries are accepted at 15-34. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22,
  GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31,
  MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24,
  SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** ISO 13616 check: length for the country, then mod 97 of the rearranged number is 1. */
export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected !== undefined ? iban.length !== expected : iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const n = code >= 65 ? code - 55 : code - 48;
    rest = n > 9 ? (rest * 100 + n) % 97 : (rest * 10 + n) % 97;
  }
  return rest === 1;
}

const hasDigit = (v: string): boolean => /\d/.test(v);

const NANP = /^(?:\+?1[ .-]?)?(?:\([2-9]\d\d\)|[2-9]\d\d)[ .-]?[2-9]\d\d[ .-]\d{4}$/;
const TRUNK = /^\(?0\d{1,4}\)?(?:[ .-]\d{2,8}){1,5}$/;
const INTERNATIONAL = /^\+[1-9]\d{0,2}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){1,6}$/;

function phoneLength(m: string): number {
  const digits = m.replace(/\D/g, '').length;
  if (/^\+\d+$/.test(m)) return digits >= 8 && digits <= 15 ? m.length : 0;
  if (m.startsWith('+')) return INTERNATIONAL.test(m) && digits >= 8 && digits <= 15 ? m.length : 0;
  if (NANP.test(m)) return m.length;
  // National numbers with a trunk prefix (`020 7946 0958`, `06 12 34 56 78`, `030 12345678`).
  if (TRUNK.test(m) && digits >= 9 && digits <= 12 && !/^\d{4}-\d\d-\d\d/.test(m)) return m.length;
  return 0;
}

function cardLength(m: string): number {
  const digits = m.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return 0;
  if (/^(\d)\1+$/.test(digits)) return 0;
  return luhnValid(digits) ? m.length : 0;
}

function ibanLength(m: string): number {
  if (ibanValid(m)) return m.length;
  // A grouped candidate may have taken a following short word as its last group.
  const cut = m.lastIndexOf(' ');
  return cut > 0 && ibanValid(m.slice(0, cut)) ? cut : 0;
}

function ssnLength(m: string): number {
  const area = Number(m.slice(0, 3));
  const group = m.slice(4, 6);
  const serial = m.slice(7);
  if (area === 0 || area === 666 || area >= 900 || group === '00' || serial === '0000') return 0;
  return m.length;
}

function jwtLength(m: string): number {
  try {
    const header = JSON.parse(Buffer.from(m.slice(0, m.indexOf('.')), 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string' ? m.length : 0;
  } catch {
    return 0;
  }
}

function ipv6Length(m: string): number {
  return /[0-9a-f]/i.test(m) && isIPv6(m.replace(/%[\w.]+$/, '')) ? m.length : 0;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

const BUILTINS: Readonly<Record<BuiltinDetectorName, Detector>> = {
  email: patternDetector(
    'email',
    /[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-])/g,
    undefined,
    (v) => v.includes('@'),
  ),
  phone: patternDetector(
    'phone',
    /(?<![\w+@.-])(?:\+[1-9]\d{7,14}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,8}){0,5})(?![\w@]|[.-]\d)/g,
    phoneLength,
    hasDigit,
  ),
  credit_card: patternDetector('credit_card', /(?<![\d-])\d(?:[ -]?\d){12,18}(?!\d|-\d)/g, cardLength, hasDigit),
  iban: patternDetector(
    'iban',
    /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)(?![A-Za-z0-9])/g,
    ibanLength,
    hasDigit,
  ),
  us_ssn: patternDetector('us_ssn', /(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?!\d|-\d)/g, ssnLength, hasDigit),
  ipv4: patternDetector('ipv4', new RegExp(`(?<![\\d.])(?:${OCTET}\\.){3}${OCTET}(?!\\d|\\.\\d)`, 'g'), undefined, (v) => v.includes('.')),
  ipv6: patternDetector(
    'ipv6',
    /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})(?:%[\w.]+)?(?![\w:]|\.\d)/g,
    ipv6Length,
    (v) => v.includes(':'),
  ),
  jwt: patternDetector(
    'jwt',
    /(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(?![\w-])/g,
    jwtLength,
    (v) => v.includes('eyJ'),
  ),
  aws_access_key: patternDetector(
    'aws_access_key',
    /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/g,
    undefined,
    (v) => v.includes('A'),
  ),
  pem_private_key: patternDetector(
    'pem_private_key',
    /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g,
    undefined,
    (v) => v.includes('-----BEGIN'),
  ),
};

export function builtinDetector(name: BuiltinDetectorName): Detector {
  return BUILTINS[name];
}

export function isBuiltinDetector(name: string): name is BuiltinDetectorName {
  return (BUILTIN_DETECTORS as readonly string[]).includes(name);
}

/**
 * Rewrites every match of any detector with `replace`. Returns the very same string when nothing
 * matched, so a caller can tell "scanned, clean" from "masked" by identity.
 */
export function maskMatches(value: string, detectors: readonly Detector[], replace: (match: string) => string): string {
  let ranges: Array<readonly [number, number]> | undefined;
  for (const detector of detectors) {
    const found = detector.find(value);
    if (found.length > 0) ranges = ranges ? ranges.concat(found) : found;
  }
  if (!ranges) return value;
  if (ranges.length > 1) ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = '';
  let at = 0;
  let i = 0;
  while (i < ranges.length) {
    let [start, end] = ranges[i++]!;
    // Overlapping matches (an email inside a JWT payload...) are masked as one span.
    while (i < ranges.length && ranges[i]![0] < end) end = Math.max(end, ranges[i++]![1]);
    if (start < at) start = at;
    out += value.slice(at, start) + replace(value.slice(start, end));
    at = end;
  }
  return out + value.slice(at);
}

/** True when any detector finds anything in the value. */
export function detectsAny(value: string, detectors: readonly Detector[]): boolean {
  return detectors.some((d) => d.find(value).length > 0);
}
