// joey version: docker's Client and Server sections (same template).
import { API_VERSION } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { Template, TemplateError, goJson, goStruct } from './format.ts';
import { tabwrite } from './tabwriter.ts';
import { reformatDate } from './units.ts';
import { VERSION } from './build-info.ts';

const DEFAULT_TEMPLATE = `{{with .Client -}}
Client:
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Node.js version:\t{{.NodeVersion}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:\t{{index .Details "GoVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- $detailsOrder := getDetailsOrder $component}}
  {{- range $key := $detailsOrder}}
  {{$key}}:\t{{index $component.Details $key}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`;

interface ServerComponent {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

interface ServerVersion {
  Platform?: { Name?: string };
  Components?: ServerComponent[];
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  BuildTime?: string;
  Experimental?: boolean;
  [k: string]: unknown;
}

/** Go's names for Node's platform and architecture. */
export function goArch(arch = process.arch): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

export function clientVersion(apiVersion: string) {
  const fields = {
    Version: VERSION,
    APIVersion: apiVersion,
    DefaultAPIVersion: API_VERSION,
    NodeVersion: process.version,
    Os: process.platform,
    Arch: goArch(),
    Context: 'default',
  };
  const json = () =>
    goJson({
      Version: fields.Version,
      ApiVersion: fields.APIVersion,
      DefaultAPIVersion: fields.DefaultAPIVersion,
      NodeVersion: fields.NodeVersion,
      Os: fields.Os,
      Arch: fields.Arch,
      Context: fields.Context,
    });
  return goStruct('system.clientVersion', fields, json);
}

/** The server part as docker shows it: an Engine component always, build time as a date. */
export function normalizeServer(sv: ServerVersion): ServerVersion {
  const out: ServerVersion = { ...sv, Platform: { Name: '', ...sv.Platform } };
  const components = (sv.Components ?? []).map((c) => ({ ...c, Details: { ...c.Details } }));
  let engine = components.find((c) => c.Name === 'Engine');
  if (!engine) {
    engine = {
      Name: 'Engine',
      Version: sv.Version ?? '',
      Details: {
        ApiVersion: sv.ApiVersion ?? '',
        MinAPIVersion: sv.MinAPIVersion ?? '',
        GitCommit: sv.GitCommit ?? '',
        GoVersion: sv.GoVersion ?? '',
        Os: sv.Os ?? '',
        Arch: sv.Arch ?? '',
        BuildTime: sv.BuildTime ?? '',
        Experimental: String(!!sv.Experimental),
      },
    };
    components.push(engine);
  }
  if (engine.Details?.BuildTime) engine.Details.BuildTime = reformatDate(engine.Details.BuildTime);
  out.Components = components;
  return out;
}

export async function runVersion(cli: Cli, opts: { format?: string }): Promise<void> {
  let text = opts.format ?? '';
  if (text === '') text = DEFAULT_TEMPLATE;
  else if (text === 'json') text = '{{json .}}';
  let tmpl: Template;
  try {
    tmpl = Template.parse(text, {
      name: 'version',
      funcs: {
        getDetailsOrder: {
          params: ['any'],
          fn: (c) => Object.keys(((c as ServerComponent).Details ?? {}) as object).sort(),
        },
      },
    });
  } catch (err) {
    if (err instanceof TemplateError) throw new StatusError(`template parsing error: ${err.message}`, 64);
    throw err;
  }

  let serverError: unknown;
  let server: ServerVersion | null = null;
  let apiVersion = API_VERSION;
  try {
    apiVersion = await cli.client.apiVersion();
    server = normalizeServer(await cli.client.get<ServerVersion>('/version'));
  } catch (err) {
    serverError = err;
  }
  const data = goStruct('system.versionInfo', { Client: clientVersion(apiVersion), Server: server });
  const { out, error } = tmpl.tryExecute(data);
  cli.out(tabwrite(out + '\n', 20, 1));
  if (serverError) throw serverError;
  if (error) throw new StatusError(error.message);
}
