// `hybrid verify-pki`: pre-flight check of a node's cluster certificates with the same code the handshake runs.
import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base-command.js';
import { renderFindings } from '../cli/render-findings.js';
import { ExitCode } from '../core/errors.js';
import { runVerifyPki, type VerifyPkiResult } from '../core/pki/verify-pki.js';

export default class VerifyPki extends BaseCommand {
  static override description =
    'Check cluster certificates before deploying: chain to the root CA, validity, EKU, server name, key match, optionally OCSP.';
  static override examples = [
    '<%= config.bin %> verify-pki --mode pki --role dp --ca ca.crt --cert dp.crt --key dp.key',
    '<%= config.bin %> verify-pki --mode pki --role cp --ca ca.crt --cert cp-chain.crt --server-name cp.example.com --at 2027-01-01T00:00:00Z',
    '<%= config.bin %> verify-pki -c /etc/kong/kong.conf --ocsp --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    conf: Flags.string({
      char: 'c',
      description:
        'Take mode, role, certificate, key, CA and server name from this kong.conf (flags override it).',
    }),
    mode: Flags.string({
      description: 'cluster_mtls mode. Default: from -c, else shared.',
      options: ['shared', 'pki'],
    }),
    role: Flags.string({
      description:
        'Role of the node owning --cert: cp needs EKU serverAuth and the server name, dp clientAuth. Required in pki mode without -c.',
      options: ['cp', 'dp'],
    }),
    cert: Flags.string({
      description: 'Node certificate (cluster_cert): the leaf, optionally followed by its intermediates.',
    }),
    key: Flags.string({ description: 'Private key of --cert (cluster_cert_key); checked to match.' }),
    ca: Flags.string({ description: 'pki: root CA certificate (cluster_ca_cert); must be self-signed.' }),
    chain: Flags.string({ description: 'pki: more intermediates, appended to what --cert holds.' }),
    'peer-cert': Flags.string({
      description: 'shared: the other node’s cluster_cert, which must be byte-identical to --cert.',
    }),
    'server-name': Flags.string({
      description:
        'pki, role cp: the name data planes send as SNI (cluster_server_name). Default: from -c, else kong_clustering.',
    }),
    at: Flags.string({ description: 'Check validity at this ISO 8601 time instead of now.' }),
    'warn-days': Flags.integer({
      description: 'Warn when a certificate expires within this many days (0: never).',
      default: 30,
      min: 0,
    }),
    ocsp: Flags.boolean({
      description: 'pki: ask the OCSP responder in the certificate’s AIA; anything but "good" fails.',
    }),
  };

  async run(): Promise<VerifyPkiResult> {
    const { flags } = await this.parse(VerifyPki);
    const result = await runVerifyPki(flags);
    if (!result.valid) process.exitCode = ExitCode.invalid;
    const what = `${result.mode} mode, ${result.role === 'cp' ? 'control plane' : 'data plane'} certificate`;
    this.log(
      `verify-pki: ${what}${result.serverName ? `, server name ${result.serverName}` : ''}, at ${result.at}`,
    );
    for (const line of renderFindings(result.findings)) this.log(line);
    const { errors, warnings, passed } = result.summary;
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    this.log(
      result.valid
        ? chalk.green(`valid: ${plural(passed, 'check')} passed, ${plural(warnings, 'warning')}`)
        : chalk.red(`invalid: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${passed} passed`),
    );
    return result;
  }
}
