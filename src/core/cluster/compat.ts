// Which data planes a control plane may configure: Kong's version rule, plugin-set and plugin-version rules, as pure functions.

export type IncompatibleReason =
  'kong_version_incompatible' | 'plugin_set_incompatible' | 'plugin_version_incompatible';

export type Compatibility =
  { compatible: true } | { compatible: false; reason: IncompatibleReason; message: string };

/** A plugin as a node announces it (basic_info, available_on_server); `version` may be absent or free-form. */
export interface PluginVersion {
  name: string;
  version?: string;
}

/** A line the control plane logs about a data plane's plugin versions at connect time (Kong's levels). */
export interface PluginVersionNote {
  level: 'warn' | 'notice' | 'info';
  message: string;
}

/** Major and minor of an `x.y.z…` version (Kong's pattern); null for anything else, e.g. `1.2` or `dev`. */
function majorMinor(version: string | undefined): [number, number] | null {
  const match = typeof version === 'string' ? /^(\d+)\.(\d+)\.\d+/.exec(version) : null;
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/** Different major, or a data plane newer (by minor) than its control plane, cannot be configured. */
export function checkVersion(cpVersion: string, dpVersion: string): Compatibility {
  const cp = majorMinor(cpVersion);
  const dp = majorMinor(dpVersion);
  if (!cp || !dp) {
    return {
      compatible: false,
      reason: 'kong_version_incompatible',
      message: `unparsable version '${dpVersion}'`,
    };
  }
  if (cp[0] !== dp[0]) {
    return {
      compatible: false,
      reason: 'kong_version_incompatible',
      message: `data plane major version ${dp[0]} differs from control plane major version ${cp[0]}`,
    };
  }
  if (dp[1] > cp[1]) {
    return {
      compatible: false,
      reason: 'kong_version_incompatible',
      message: `data plane minor version ${dp[1]} is newer than control plane minor version ${cp[1]}`,
    };
  }
  return { compatible: true };
}

/** Every plugin configured on the control plane must be present on the data plane. */
export function checkPlugins(configured: Iterable<string>, onDataPlane: Iterable<string>): Compatibility {
  const available = new Set(onDataPlane);
  const missing = [...new Set(configured)].filter((name) => !available.has(name)).sort();
  return missing.length === 0
    ? { compatible: true }
    : {
        compatible: false,
        reason: 'plugin_set_incompatible',
        message: `plugin${missing.length > 1 ? 's' : ''} ${missing.join(', ')} configured on the control plane but missing on the data plane`,
      };
}

/** The plugins of a basic_info frame, keeping only well-formed entries (a version that is not a string is none). */
export function announcedPlugins(plugins: readonly unknown[]): PluginVersion[] {
  const out: PluginVersion[] = [];
  for (const plugin of plugins) {
    const { name, version } = (plugin ?? {}) as { name?: unknown; version?: unknown };
    if (typeof name !== 'string') continue;
    out.push(typeof version === 'string' ? { name, version } : { name });
  }
  return out;
}

const byName = (plugins: readonly PluginVersion[]) => new Map(plugins.map((p) => [p.name, p.version]));

/**
 * Kong's plugin-version rule for configured plugins: the data plane's version of each must have the control
 * plane's major and no newer minor. A version either side leaves unspecified (or not `x.y.z`) is not compared,
 * nor is a plugin one side does not announce (the plugin-set rule covers a missing one).
 */
export function checkPluginVersions(
  configured: Iterable<string>,
  onControlPlane: readonly PluginVersion[],
  onDataPlane: readonly PluginVersion[],
): Compatibility {
  const cpVersions = byName(onControlPlane);
  const dpVersions = byName(onDataPlane);
  const differing: string[] = [];
  for (const name of [...new Set(configured)].sort()) {
    const cpVersion = cpVersions.get(name);
    const dpVersion = dpVersions.get(name);
    const cp = majorMinor(cpVersion);
    const dp = majorMinor(dpVersion);
    if (!cp || !dp) continue;
    if (cp[0] !== dp[0] || dp[1] > cp[1])
      differing.push(`${name} ${dpVersion} (control plane has ${cpVersion})`);
  }
  return differing.length === 0
    ? { compatible: true }
    : {
        compatible: false,
        reason: 'plugin_version_incompatible',
        message: `configured plugin${differing.length > 1 ? 's' : ''} ${differing.join(', ')} on the data plane of an incompatible version`,
      };
}

/** Both configuration rules in Kong's order: a missing plugin first, then a plugin of the wrong version. */
export function checkConfiguration(
  configured: ReadonlySet<string>,
  onControlPlane: readonly PluginVersion[],
  onDataPlane: readonly PluginVersion[],
): Compatibility {
  const set = checkPlugins(
    configured,
    onDataPlane.map((p) => p.name),
  );
  return set.compatible ? checkPluginVersions(configured, onControlPlane, onDataPlane) : set;
}

/**
 * What Kong logs when a data plane connects, for every plugin both sides have whatever is configured: a
 * different major as a warning, a different minor as info (an older data plane is normal during an upgrade),
 * a version only one side specifies as a notice. Plugins the data plane lacks are the plugin-set rule's job.
 */
export function pluginVersionNotes(
  onControlPlane: readonly PluginVersion[],
  onDataPlane: readonly PluginVersion[],
): PluginVersionNote[] {
  const dpVersions = byName(onDataPlane);
  const notes: PluginVersionNote[] = [];
  for (const { name, version: cpVersion } of onControlPlane) {
    if (!dpVersions.has(name)) continue;
    const dpVersion = dpVersions.get(name);
    const cp = majorMinor(cpVersion);
    const dp = majorMinor(dpVersion);
    if (cp && dp) {
      const message = `data plane ${name} plugin version ${dpVersion} is different to control plane plugin version ${cpVersion}`;
      if (cp[0] !== dp[0]) notes.push({ level: 'warn', message });
      else if (cp[1] !== dp[1]) notes.push({ level: 'info', message });
    } else if (dp) {
      notes.push({
        level: 'notice',
        message: `data plane ${name} plugin version ${dpVersion} has unspecified version on control plane`,
      });
    } else if (cp) {
      notes.push({
        level: 'notice',
        message: `data plane ${name} plugin version is unspecified, and is different to control plane plugin version ${cpVersion}`,
      });
    }
  }
  return notes;
}
