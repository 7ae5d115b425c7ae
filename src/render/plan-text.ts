// Terraform-style plan text. Computes nothing: everything shown is in the Plan value. Without
// --verbose, steps are grouped for reading (plan-entries.ts) and nestctl's own marker keys are not listed.

import { argvText } from '../core/argv-text.js';
import { structuredPatch } from 'diff';
import { formatRange } from '../core/ids/range.js';
import type { SubidEdit } from '../core/subid/file.js';
import { containerHostIds } from '../core/ids/host-ids.js';
import { planCounts } from '../core/plan/counts.js';
import { MARKER_MANAGED, MARKER_PATH } from '../core/plan/desired-config.js';
import { hostPart } from '../core/plan/hosts.js';
import { type LevelSummary, type Plan, type PlanHost, type ProfileBody, type Step, flavourAt, isEmptyPlan } from '../core/plan/model.js';
import type { Colours } from './colour.js';
import { quoted, visible, visibleLines } from './visible.js';
import { levelLabel } from '../core/paths.js';
import { bridgeName, daemonName, flavourInfo, startOnlyFacts } from '../core/flavour/index.js';
import { type PlanEntry, planEntries } from './plan-entries.js';

/** The sign the plan text puts before a step: create, update, delete, replace. */
export function stepSymbol(step: Step): '+' | '~' | '-' | '-/+' {
  if (isReplacement(step)) return '-/+';
  switch (step.kind) {
    case 'delete-instance':
    case 'delete-profile':
    case 'delete-lxc':
      return '-';
    case 'create-lxc':
      return '+';
    case 'write-lxc-file':
      return step.before === null ? '+' : '~';
    case 'create-profile':
    case 'create-instance':
    case 'copy-instance':
    case 'snapshot-instance':
    case 'copy-image':
    case 'fetch-image':
    case 'init-daemon':
      return '+';
    case 'push-file':
      return step.before ? '~' : '+';
    default:
      return '~';
  }
}

/** A step's one-line title; a step of a plan of several hosts starts with its host (`[nxr1] r1: …`). */
export function stepTitle(step: Step, plan: Pick<Plan, 'levels' | 'flavours' | 'hosts'>): string {
  if (step.host === undefined) return titleAt(step, plan);
  const levels = plan.levels.filter((l) => l.host === step.host);
  const flavours = plan.hosts?.find((h) => h.name === step.host)?.flavours;
  return `[${step.host}] ${titleAt(step, { levels, ...(flavours ? { flavours } : {}) })}`;
}

function titleAt(step: Step, plan: Pick<Plan, 'levels' | 'flavours'>): string {
  const where = levelLabel(step.level);
  const flavour = flavourAt(plan, step.level);
  switch (step.kind) {
    case 'write-subid':
      return step.edit ? `${where}: /etc/${step.file} → ${editTitle(step.edit)}` : `${where}: restore /etc/${step.file}`;
    case 'restart-daemon':
      return `${where}: restart ${daemonName(flavour)}${step.command ? ` (${step.command.join(' ')})` : ''}`;
    case 'init-daemon':
      return `${where}: initialise ${daemonName(flavour)} (${[step.needs.pool && 'dir pool "default"', step.needs.bridge && `bridge ${bridgeName(flavour)} ${step.subnet}`, step.needs.profile && 'default profile'].filter(Boolean).join(', ')})`;
    case 'fetch-image':
      return `${where}: fetch image ${step.remote}`;
    case 'copy-image':
      return `${step.relay ?? where}: copy image ${step.image}${step.fingerprint ? ` (${step.fingerprint.slice(0, 12)})` : ''} from ${step.relay !== undefined ? 'this machine' : levelLabel(step.source)}`;
    case 'create-instance':
      return step.replace !== undefined ? replaceTitle(step.path, step.replace) : `${step.path}: create from ${step.image}`;
    case 'update-config':
      return `${step.path}: update config`;
    case 'start-instance':
      return `${step.path}: start`;
    case 'delete-instance':
      return `${step.path}: destroy`;
    case 'push-file':
      return `${step.path}: ${step.file}`;
    case 'run-setup': {
      const n = `${step.commands.length} command${step.commands.length === 1 ? '' : 's'}`;
      return `${step.path}: setup (${step.ran > 0 ? `run ${n} after the ${step.ran} that ran` : step.before ? `list changed: re-run ${n}` : `run ${n}`})`;
    }
    case 'create-profile':
    case 'update-profile':
    case 'delete-profile':
      return `${where}: profile ${step.name}`;
    case 'write-lxc-file':
      return step.restore
        ? `${where}: restore ${step.file}`
        : `${where}: ${step.file}${step.owner === 'root' ? '' : ` (as ${step.owner})`}`;
    case 'create-lxc':
      return `${step.path}: lxc-create -t ${step.template}${step.templateArgs.length > 0 ? ` -- ${step.templateArgs.join(' ')}` : ''} (LXC, as ${step.user ?? 'root'})`;
    case 'configure-lxc':
      return `${step.path}: LXC config`;
    case 'start-lxc':
      return `${step.path}: lxc-start${step.cgroup === 'systemd-run' ? ' (in a delegated systemd scope)' : ''}`;
    case 'delete-lxc':
      return `${step.path}: lxc-stop -k and lxc-destroy (LXC, as ${step.user ?? 'root'})`;
    case 'restart-instance':
      return step.grow
        ? `${step.path}: remap onto ${step.grow.to.start}:${step.grow.to.size} (was ${step.grow.from.start}:${step.grow.from.size}; restarts ${step.path}${step.hosting ? ' and everything inside it' : ''})`
        : `${step.path}: restart (${daemonName(flavour)} ${step.keys.length > 0 ? startOnlyFacts(step.keys) : 'applies its new id map'} only when ${step.path} starts; ${stopsFor(step.path, step.inside)})`;
    case 'restart-service':
      return `${step.path}: restart ${step.service}`;
    case 'move-instance':
      return `${step.path}: move from member ${step.from} to ${step.to}`;
    case 'copy-instance':
      return `${step.path}: copy of ${step.sourcePath} (from a snapshot${step.inside.length > 0 ? `; starts the ${step.inside.length === 1 ? 'container' : `${step.inside.length} containers`} inside it` : ''})`;
    case 'snapshot-instance':
      return `${step.path}: snapshot ${step.snapshot} (before this plan changes it)`;
    case 'restore-instance':
      return `${step.path}: restore ${step.snapshot} (restarts ${step.path}${step.inside.length > 0 ? `, then starts the ${step.inside.length === 1 ? 'container' : `${step.inside.length} containers`} inside it` : ''})`;
    case 'rename-instance':
      return `${step.fromPath} → ${step.path}: rename${step.running ? ` (LXD renames only a stopped container: ${stopsFor(step.fromPath, step.inside.length)})` : ''}`;
  }
}

/** What a restart costs: "stops c1 and the 2 containers inside it for a moment". */
const stopsFor = (path: string, inside: number): string =>
  `stops ${path}${inside > 0 ? ` and the ${inside === 1 ? 'container' : `${inside} containers`} inside it` : ''} for a moment`;

/** The entries a subid write sets, one per owner. */
const editTitle = (edit: SubidEdit): string => edit.map((e) => `${e.owner}:${formatRange(e.entry)}`).join(', ');

function unifiedDiff(file: string, before: string, after: string, c: Colours): string[] {
  const patch = structuredPatch(file, file, before, after, '', '', { context: 3 });
  const out = [c.bold(`--- ${file}`), c.bold(`+++ ${file}`)];
  for (const h of patch.hunks) {
    out.push(c.cyan(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`));
    for (const raw of h.lines) {
      const l = visibleLines(raw);
      out.push(l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l);
    }
  }
  return out;
}

const MARKERS: ReadonlySet<string> = new Set([MARKER_MANAGED, MARKER_PATH]);

export interface PlanTextOptions {
  /** Every step on its own and every key, nestctl's markers included. */
  verbose: boolean;
}

function details(step: Step, c: Colours, verbose: boolean): string[] {
  switch (step.kind) {
    case 'write-subid':
      return subidDetails(step, `/etc/${step.file}`, c);
    case 'create-instance':
      return [
        ...(step.target !== undefined ? [`on cluster member: ${step.target}`] : []),
        `profiles: ${step.profiles.join(', ') || '(none)'}`,
        ...Object.entries(step.config)
          .filter(([k]) => verbose || !MARKERS.has(k))
          .map(([k, v]) => c.green(`+ ${visible(k)} = ${quoted(v)}`) + why(step.implied, k, c)),
      ];
    case 'copy-instance':
      return [
        ...(step.target !== undefined ? [`on cluster member: ${step.target}`] : []),
        c.dim(`what ${step.sourcePath} holds comes with it; a later change of ${step.sourcePath} does not replace the copy`),
        ...Object.entries(step.config)
          .filter(([k]) => verbose || !MARKERS.has(k))
          .map(([k, v]) => c.green(`+ ${visible(k)} = ${quoted(v)}`) + why(step.implied, k, c)),
        ...step.inside.map((i) => `starts ${i.path}`),
      ];
    case 'update-config':
      return [
        ...Object.entries(step.set).map(
          ([k, v]) =>
            (Object.hasOwn(step.before, k)
              ? c.yellow(`~ ${visible(k)} = ${quoted(step.before[k])} → ${quoted(v)}`)
              : c.green(`+ ${visible(k)} = ${quoted(v)}`)) + why(step.implied, k, c),
        ),
        ...unsetLines(step.unset, step.before, c),
        ...(step.profiles
          ? [c.yellow(`~ profiles = [${step.profiles.before.map(visible).join(', ')}] → [${step.profiles.after.map(visible).join(', ')}]`)]
          : []),
      ];
    case 'push-file':
      return fileDetails(step, c);
    case 'create-profile':
      return profileLines(null, step.profile, c, verbose);
    case 'update-profile':
      return profileLines(step.before, step.profile, c, verbose);
    case 'write-lxc-file':
      return unifiedDiff(step.file, step.before ?? '', step.after, c);
    case 'create-lxc':
      return step.config === null
        ? [c.dim("id map and network from its user's default.conf")]
        : step.config
            .trimEnd()
            .split('\n')
            .map((l) => c.green(`+ ${visibleLines(l)}`));
    case 'configure-lxc':
      return step.before !== null && step.after !== null
        ? unifiedDiff('config', step.before, step.after, c)
        : step.set.map(([k, v]) => c.green(`+ ${visible(k)} = ${visible(v)}`));
    case 'run-setup':
      return step.commands.map((argv) => `$ ${argvText(argv)}`);
    default:
      return [];
  }
}

/** A key nestctl added, with the reason the plan carries for it. */
const why = (implied: Record<string, string> | undefined, key: string, c: Colours): string =>
  implied?.[key] ? c.dim(`  (${implied[key]})`) : '';
/** A profile's description, config keys and devices, as added (before null) or as a key-level diff. */
function profileLines(before: ProfileBody | null, after: ProfileBody, c: Colours, verbose: boolean): string[] {
  const out: string[] = [];
  const was = before ?? { description: '', config: {}, devices: {} };
  if (was.description !== after.description)
    out.push(
      before
        ? c.yellow(`~ description = ${quoted(was.description)} → ${quoted(after.description)}`)
        : c.green(`+ description = ${quoted(after.description)}`),
    );
  const keyLines = (old: Record<string, string>, now: Record<string, string>, prefix: string): string[] => [
    ...Object.entries(now)
      .filter(([k, v]) => old[k] !== v && (verbose || !MARKERS.has(k)))
      .map(([k, v]) =>
        Object.hasOwn(old, k)
          ? c.yellow(`~ ${prefix}${visible(k)} = ${quoted(old[k])} → ${quoted(v)}`)
          : c.green(`+ ${prefix}${visible(k)} = ${quoted(v)}`),
      ),
    ...Object.keys(old)
      .filter((k) => !Object.hasOwn(now, k))
      .map((k) => c.red(`- ${prefix}${visible(k)} = ${quoted(old[k])}`)),
  ];
  out.push(...keyLines(was.config, after.config, ''));
  for (const name of [...new Set([...Object.keys(was.devices), ...Object.keys(after.devices)])].sort()) {
    const old = was.devices[name];
    const now = after.devices[name];
    if (!now) out.push(c.red(`- device ${visible(name)}`));
    else if (!old)
      out.push(
        c.green(
          `+ device ${visible(name)}: ${Object.entries(now)
            .map(([k, v]) => `${visible(k)}=${visible(v)}`)
            .join(' ')}`,
        ),
      );
    else out.push(...keyLines(old, now, `device ${visible(name)}: `));
  }
  return out;
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

function fileDetails(step: Extract<Step, { kind: 'push-file' }>, c: Colours): string[] {
  const b = step.before;
  const owner = `mode ${octal(step.mode)}, owner ${step.uid}:${step.gid}`;
  if (!b) return [c.green(`+ ${step.size} bytes, ${owner}`)];
  const out: string[] = [];
  if (b.mode !== step.mode) out.push(c.yellow(`~ mode ${octal(b.mode)} → ${octal(step.mode)}`));
  if (b.uid !== step.uid || b.gid !== step.gid) out.push(c.yellow(`~ owner ${b.uid}:${b.gid} → ${step.uid}:${step.gid}`));
  if (b.sha256 !== step.sha256) {
    if (step.text) out.push(...unifiedDiff(step.file, step.text.before, step.text.after, c));
    else
      out.push(c.yellow(`~ ${b.size} bytes (sha256 ${b.sha256.slice(0, 12)}) → ${step.size} bytes (sha256 ${step.sha256.slice(0, 12)})`));
  }
  return out;
}

function subidDetails(step: Extract<Step, { kind: 'write-subid' }>, file: string, c: Colours): string[] {
  if (step.after === null) {
    const e = step.edit;
    return [
      c.dim(
        e
          ? `(file known after apply: ${e.map((o) => `${o.owner}'s first entry becomes ${o.owner}:${formatRange(o.entry)}`).join(', ')}, other lines kept)`
          : '(file known after apply)',
      ),
    ];
  }
  // What the step will write is shown whenever it carries it, from an empty file if need be.
  return unifiedDiff(file, step.before ?? '', step.after, c);
}

const isReplacement = (step: Step): boolean => step.kind === 'create-instance' && step.replace !== undefined;

/** A create that replaces the container deleted before it (Terraform's -/+). */
function replaceTitle(path: string, why: string): string {
  return `${path} (replace: ${why})`;
}

/** Config drift: a key the manifest does not name, removed. */
function unsetLines(unset: readonly string[], before: Record<string, string>, c: Colours): string[] {
  return unset.map((k) => c.yellow(`~ ${visible(k)} = ${quoted(before[k] ?? '')} → (unset)`));
}

function coloured(sym: '+' | '~' | '-' | '-/+', c: Colours): string {
  return sym === '+' ? c.green(sym) : sym === '-' || sym === '-/+' ? c.red(sym) : c.yellow(sym);
}

function entryLines(entry: PlanEntry, plan: Plan, c: Colours, verbose: boolean): string[] {
  switch (entry.kind) {
    case 'step':
      return [
        `  ${coloured(stepSymbol(entry.step), c)} ${stepTitle(entry.step, plan)}`,
        `      ${c.dim(entry.step.reason)}`,
        ...details(entry.step, c, verbose).map((d) => `      ${d}`),
      ];
    case 'subid-pair': {
      const both = '/etc/subuid and /etc/subgid';
      const s = entry.subuid;
      const title = s.edit ? `${levelLabel(s.level)}: ${both} → ${editTitle(s.edit)}` : `${levelLabel(s.level)}: restore ${both}`;
      return [`  ${coloured('~', c)} ${title}`, `      ${c.dim(s.reason)}`, ...subidDetails(s, both, c).map((d) => `      ${d}`)];
    }
    case 'create-start':
      return [
        `  ${coloured(stepSymbol(entry.create), c)} ${stepTitle(entry.create, plan)} and start`,
        `      ${c.dim(entry.create.reason)}`,
        ...details(entry.create, c, verbose).map((d) => `      ${d}`),
      ];
  }
}

/** `# c1 (Incus, new; assumed from its parent)`: the level's flavour and how it was decided. */
function levelHeader(path: string, summary: LevelSummary | undefined): string {
  if (!summary) return `# ${levelLabel(path)}`;
  const from =
    summary.flavourFrom === 'assumed' ? '; assumed from its parent' : summary.flavourFrom === 'manifest' ? '; named by the manifest' : '';
  return `# ${levelLabel(path)} (${flavourInfo(summary.flavour).title}${summary.observed ? '' : ', new'}${from})`;
}

/** container → the host ids its root and users run as, for every container the plan's levels map. */
function idTable(plan: Plan, c: Colours): string[] {
  const rows = containerHostIds(plan.levels);
  if (rows.length === 0) return [];
  const width = Math.max(...rows.map((r) => r.path.length));
  return [
    c.bold('Host ids of each container:'),
    ...rows.map(
      (r) =>
        `  ${r.path.padEnd(width)}  root = host uid ${r.host.start}, ${r.host.size} ids${r.isolated ? ' (isolated)' : ''}` +
        (r.dockremap ? `; Docker's dockremap = host uid ${r.dockremap.start}, ${r.dockremap.size} ids` : '') +
        (r.fits ? '' : c.red(" (runs past its parent level's ids)")),
    ),
    '',
  ];
}

/** `# host nxr1 (remote nxr1 = server "nxr1", fingerprint efa39ebc…)`: a section of a plan of several hosts. */
function hostHeader(host: PlanHost): string {
  const r = host.remote;
  return r
    ? `# host ${host.name} (remote ${r.remote} = server ${quoted(r.serverName)}, fingerprint ${r.fingerprint.slice(0, 8)}…)`
    : `# host ${host.name} (this machine)`;
}

function actionLines(plan: Plan, c: Colours, options: PlanTextOptions): string[] {
  const lines = ['nestctl will perform the following actions:', ''];
  const order = [...new Set(plan.steps.map((s) => s.level))];
  for (const level of order) {
    lines.push(
      c.bold(
        levelHeader(
          level,
          plan.levels.find((l) => l.path === level),
        ),
      ),
    );
    for (const entry of planEntries(
      plan.steps.filter((s) => s.level === level),
      options.verbose,
    ))
      lines.push(...entryLines(entry, plan, c, options.verbose));
    lines.push('');
  }
  return lines;
}

export function renderPlanText(plan: Plan, c: Colours, options: PlanTextOptions = { verbose: false }): string {
  const lines: string[] = [];
  for (const w of plan.warnings) lines.push(c.yellow(`Warning: ${visibleLines(w)}`));
  if (plan.warnings.length > 0) lines.push('');
  if (isEmptyPlan(plan)) {
    lines.push(
      c.green(
        plan.mode === 'destroy'
          ? 'No changes. Nothing nestctl created is left to destroy.'
          : 'No changes. The containers match the manifest.',
      ),
    );
    return `${lines.join('\n')}\n`;
  }
  if (plan.hosts) {
    for (const host of plan.hosts) {
      const part = hostPart(plan, host.name);
      lines.push(c.bold(hostHeader(host)), '');
      lines.push(
        ...(part.steps.length === 0
          ? [c.green('  No changes on this host.'), '']
          : [...idTable(part, c), ...actionLines(part, c, options)]),
      );
    }
  } else lines.push(...idTable(plan, c), ...actionLines(plan, c, options));
  if (!options.verbose && plan.steps.some((s) => s.kind === 'create-instance'))
    lines.push(c.dim('Every container nestctl creates also gets its user.nestctl.* marker keys; -v lists every step and key.'), '');
  const n = planCounts(plan);
  lines.push(
    c.bold(
      `Plan: ${n.add} container${n.add === 1 ? '' : 's'} to add, ${n.change} to change, ${n.destroy} to destroy (${n.steps} step${n.steps === 1 ? '' : 's'}).`,
    ),
  );
  return `${lines.join('\n')}\n`;
}
