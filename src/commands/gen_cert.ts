// `hybrid gen_cert [CERT] [KEY]`: writes a shared-mode cluster certificate and key.
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { UsageError } from '../core/errors.js';
import { genCert, type GenCertResult } from '../core/pki/gen-cert.js';
import { DEFAULT_CERT_DAYS, MAX_CERT_DAYS } from '../core/pki/self-signed.js';

export default class GenCert extends BaseCommand {
  static override description =
    'Generate a certificate/key pair for shared-mode clustering (EC secp384r1, CN=kong_clustering).';
  static override examples = [
    '<%= config.bin %> gen_cert',
    '<%= config.bin %> gen_cert /etc/hybrid/cluster.crt /etc/hybrid/cluster.key --days 730',
  ];
  static override enableJsonFlag = true;

  static override args = {
    cert: Args.string({ description: 'Certificate output path.', default: 'cluster.crt' }),
    key: Args.string({ description: 'Private key output path (written 0600).', default: 'cluster.key' }),
  };

  static override flags = {
    days: Flags.integer({
      description: 'Validity in days, from now.',
      default: DEFAULT_CERT_DAYS,
      min: 1,
      max: MAX_CERT_DAYS,
    }),
    force: Flags.boolean({ description: 'Overwrite existing files.', default: false }),
  };

  async run(): Promise<GenCertResult> {
    const { args, flags, raw } = await this.parse(GenCert);
    const given = raw.filter((token) => token.type === 'arg').length;
    if (given === 1) {
      throw new UsageError('gen_cert takes both a certificate and a key path, or neither', {
        hint: 'Example: hybrid gen_cert cluster.crt cluster.key',
      });
    }
    const result = await genCert({
      certPath: args.cert,
      keyPath: args.key,
      days: flags.days,
      force: flags.force,
    });
    this.log(
      `Successfully generated certificate/key pairs, they have been written to: '${result.cert}' and '${result.key}'.`,
    );
    return result;
  }
}
