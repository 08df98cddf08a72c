import cliProgress from 'cli-progress';

/** A progress bar on stderr (drawn only on a terminal); `extra` names are shown as `name value`. */
export function progressBar(label: string, extra: string[] = []): cliProgress.SingleBar {
  const fields = extra.map((e) => ` | ${e} {${e}}`).join('');
  return new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {value}/{total}${fields} | {duration_formatted} elapsed, ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
}
