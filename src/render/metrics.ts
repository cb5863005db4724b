/**
 * The report as Prometheus text exposition format (version 0.0.4), for node_exporter's textfile collector or a
 * Pushgateway: gauges named mtu_preflight_<what>_<unit>, labelled with the runner and the CI system, and per layer
 * and target where they are about one. A label never carries a URL or its credentials: a --url target is labelled
 * by its host, and every value goes through maskSecrets. `promtool check metrics` passes on it (test/unit/render).
 */
import { isInner, type Layer } from '../model/layers.js';
import type { Report } from '../model/report.js';
import { maskSecrets } from '../util/redact.js';

export interface MetricsContext {
  /** The runner's name (CI_RUNNER_DESCRIPTION, RUNNER_NAME, the host name): see src/output/files.ts. */
  runner: string;
}

type Labels = Record<string, string>;
interface Family {
  name: string;
  help: string;
  samples: Array<[Labels, number]>;
}

const VERDICT_VALUE = { pass: 0, warn: 1, fail: 2 } as const;

const escapeLabel = (v: string): string =>
  maskSecrets(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function line(name: string, labels: Labels, value: number): string {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  return `${name}{${l}} ${Number.isFinite(value) ? String(value) : 'NaN'}`;
}

/** The smallest uplink MTU of a layer's routes, else the layer's own MTU for an inner layer (its egress). */
function uplinkMtu(layer: Layer): number | undefined {
  const ups = layer.uplinks.map((u) => u.effectiveMtu);
  if (ups.length > 0) return Math.min(...ups);
  return isInner(layer) ? layer.mtu : undefined;
}

/** One label value per probe: the catalog id, or `url:<host>` for --url targets; repeats get `#2`, `#3`... */
function targetLabels(layer: Layer): string[] {
  const seen = new Map<string, number>();
  return layer.probes.map((p) => {
    const base = p.target === 'url' ? `url:${p.host}` : p.target;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
}

function runFamilies(report: Report, run: Labels): Family[] {
  const counts = new Map<string, number>();
  for (const f of report.findings)
    counts.set(`${f.code}\n${f.severity}`, (counts.get(`${f.code}\n${f.severity}`) ?? 0) + 1);
  return [
    {
      name: 'mtu_preflight_verdict',
      help: 'Verdict of the last run: 0 pass, 1 warn (a latent mismatch), 2 fail (downloads stall or fail).',
      samples: [[run, VERDICT_VALUE[report.verdict]]],
    },
    {
      name: 'mtu_preflight_last_run_timestamp_seconds',
      help: 'When the last run started, in seconds since the Unix epoch.',
      samples: [[run, Date.parse(report.startedAt) / 1000]],
    },
    {
      name: 'mtu_preflight_run_duration_seconds',
      help: 'How long the last run took.',
      samples: [[run, report.durationMs / 1000]],
    },
    {
      name: 'mtu_preflight_timed_out',
      help: '1 when the last run hit its deadline (what it reports is what it found until then).',
      samples: [[run, report.timedOut ? 1 : 0]],
    },
    {
      name: 'mtu_preflight_recommended_mtu_bytes',
      help: 'The MTU the verdict recommends for the inner networks (absent when none is recommended).',
      samples: report.recommendedMtu !== undefined ? [[run, report.recommendedMtu]] : [],
    },
    {
      name: 'mtu_preflight_findings',
      help: 'Findings of the last run, by code and severity (codes are stable: README "What a finding means").',
      samples: [...counts].map(([k, n]) => {
        const [code, severity] = k.split('\n') as [string, string];
        return [{ ...run, code, severity }, n];
      }),
    },
  ];
}

function layerFamilies(report: Report, run: Labels): Family[] {
  const fam = (name: string, help: string): Family => ({ name, help, samples: [] });
  const mtu = fam('mtu_preflight_layer_mtu_bytes', "The MTU a layer's traffic leaves with.");
  const up = fam('mtu_preflight_uplink_mtu_bytes', 'The smallest MTU of the path a layer leaves by.');
  const rec = fam('mtu_preflight_layer_recommended_mtu_bytes', 'The MTU a finding recommends for this layer.');
  const ok = fam('mtu_preflight_probe_success', '1 when the probe downloaded what it should, else 0.');
  const outcome = fam('mtu_preflight_probe_outcome', 'The probe outcome (ok, stall, dns-failure, ...) as a label.');
  const ttfb = fam('mtu_preflight_probe_ttfb_seconds', 'Time from the probe start to the first byte of the body.');
  const bps = fam('mtu_preflight_probe_throughput_bytes_per_second', 'Body throughput of the probe.');
  const bytes = fam('mtu_preflight_probe_received_bytes', 'Body bytes the probe received.');
  for (const layer of report.layers) {
    const l = { ...run, layer: layer.id, layer_kind: layer.kind };
    if (layer.mtu !== undefined) mtu.samples.push([l, layer.mtu]);
    const u = uplinkMtu(layer);
    if (u !== undefined) up.samples.push([l, u]);
    const r = report.findings.find((f) => f.layer === layer.id && f.recommendedMtu !== undefined)?.recommendedMtu;
    if (r !== undefined) rec.samples.push([l, r]);
    const targets = targetLabels(layer);
    layer.probes.forEach((p, i) => {
      const t = { ...run, layer: layer.id, target: targets[i]! };
      ok.samples.push([t, p.outcome === 'ok' ? 1 : 0]);
      outcome.samples.push([{ ...t, outcome: p.outcome }, 1]);
      if (p.phases.ttfbMs !== undefined) ttfb.samples.push([t, p.phases.ttfbMs / 1000]);
      if (p.throughputBps !== undefined) bps.samples.push([t, Math.round(p.throughputBps)]);
      bytes.samples.push([t, p.bytes]);
    });
  }
  return [mtu, up, rec, ok, outcome, ttfb, bps, bytes];
}

export function renderMetrics(report: Report, ctx: MetricsContext): string {
  const run: Labels = { runner: ctx.runner, ci_system: report.ci.system };
  const out: string[] = [];
  for (const f of [...runFamilies(report, run), ...layerFamilies(report, run)]) {
    if (f.samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const [labels, value] of f.samples) out.push(line(f.name, labels, value));
  }
  return out.join('\n') + '\n';
}
