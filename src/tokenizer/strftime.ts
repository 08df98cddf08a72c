/**
 * Python's `datetime.strftime` in the C locale, for the `strftime_now(format)` function that
 * transformers exposes to chat templates (`datetime.now().strftime(format)`, local time).
 *
 * Supported directives: %a %A %b %B %c %d %e %f %H %I %j %m %M %p %S %u %U %w %W %x %X %y %Y %z
 * %Z %G %V %D %F %T %R %h %n %t %%, and the glibc flag `-` (no padding, e.g. `%-d`) that Python
 * passes through on Linux. Unknown directives are left as written, as glibc does.
 */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

function pad(n: number, width: number, noPad: boolean, fill = '0'): string {
  const s = String(Math.abs(n));
  const body = noPad ? s : s.padStart(width, fill);
  return n < 0 ? '-' + body : body;
}

/** Day of the year, 1-based. */
function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  const a = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  const b = Date.UTC(start.getFullYear(), 0, 1);
  return Math.round((a - b) / 86400000) + 1;
}

/** ISO 8601 week-numbering year and week. */
function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const dow = t.getUTCDay() || 7; // Monday = 1 … Sunday = 7
  t.setUTCDate(t.getUTCDate() + 4 - dow); // Thursday of this ISO week
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86400000 + 1) / 7);
  return { year, week };
}

function timezoneName(d: Date): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d);
    return parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
  } catch {
    return '';
  }
}

/** Formats `date` (local time) like Python's `date.strftime(format)` in the C locale. */
export function strftime(date: Date, format: string): string {
  return format.replace(/%(-?)([a-zA-Z%])/g, (whole: string, flag: string, c: string): string => {
    const np = flag === '-';
    const d = date;
    switch (c) {
      case 'a': return DAYS[d.getDay()]!.slice(0, 3);
      case 'A': return DAYS[d.getDay()]!;
      case 'b': case 'h': return MONTHS[d.getMonth()]!.slice(0, 3);
      case 'B': return MONTHS[d.getMonth()]!;
      case 'c':
        return `${strftime(d, '%a %b')} ${pad(d.getDate(), 2, false, ' ')} ${strftime(d, '%H:%M:%S %Y')}`;
      case 'd': return pad(d.getDate(), 2, np);
      case 'e': return pad(d.getDate(), 2, np, ' ');
      case 'f': return pad(d.getMilliseconds() * 1000, 6, np);
      case 'H': return pad(d.getHours(), 2, np);
      case 'I': return pad(d.getHours() % 12 === 0 ? 12 : d.getHours() % 12, 2, np);
      case 'j': return pad(dayOfYear(d), 3, np);
      case 'm': return pad(d.getMonth() + 1, 2, np);
      case 'M': return pad(d.getMinutes(), 2, np);
      case 'p': return d.getHours() < 12 ? 'AM' : 'PM';
      case 'S': return pad(d.getSeconds(), 2, np);
      case 'u': return String(d.getDay() === 0 ? 7 : d.getDay());
      case 'w': return String(d.getDay());
      case 'U': return pad(Math.floor((dayOfYear(d) - 1 + 7 - d.getDay()) / 7), 2, np);
      case 'W': return pad(Math.floor((dayOfYear(d) - 1 + 7 - ((d.getDay() + 6) % 7)) / 7), 2, np);
      case 'G': return String(isoWeek(d).year);
      case 'V': return pad(isoWeek(d).week, 2, np);
      case 'x': return strftime(d, '%m/%d/%y');
      case 'X': case 'T': return strftime(d, '%H:%M:%S');
      case 'D': return strftime(d, '%m/%d/%y');
      case 'F': return strftime(d, '%Y-%m-%d');
      case 'R': return strftime(d, '%H:%M');
      case 'y': return pad(d.getFullYear() % 100, 2, np);
      case 'Y': return String(d.getFullYear());
      case 'z': {
        const off = -d.getTimezoneOffset();
        const sign = off < 0 ? '-' : '+';
        const a = Math.abs(off);
        return `${sign}${pad(Math.floor(a / 60), 2, false)}${pad(a % 60, 2, false)}`;
      }
      case 'Z': return timezoneName(d);
      case 'n': return '\n';
      case 't': return '\t';
      case '%': return '%';
      default: return whole;
    }
  });
}
