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

/** What a run reports, drawn on `bar`: the first report starts it (at the run's total), the later ones move it. */
export function drawProgress(bar: cliProgress.SingleBar): (done: number, total: number, payload: Record<string, unknown>) => void {
  let started = false;
  return (done, total, payload) => {
    if (started) return bar.update(done, payload);
    bar.start(total, done, payload);
    started = true;
  };
}
