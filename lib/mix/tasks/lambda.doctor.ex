defmodule Mix.Tasks.Lambda.Doctor do
  @shortdoc "Checks what deploying and running the function needs, with a fix for each problem"
  @moduledoc """
  One screen that tells what will and will not work before you try:

    * this machine's Elixir and OTP (tested, expected, or newer) and what
      the layer will carry (built from this installation)
    * the OTP applications deploying uses (crypto, public_key, ssl, inets)
    * the runtime's NIF: precompiled (and which, checked against its
      SHA-256) or built, and whether it loads
    * the `lambda:` settings and the handler (compiled and exported)
    * what building the layer needs (zig, cargo-zigbuild, Rust and the
      target's standard library), and the layer cache
    * the layer zip, if built: its architecture against the function's,
      its OTP and Elixir against this machine's
    * where credentials come from (never the credentials), the region and
      endpoint, the execution role
    * with `--online`: the function as Lambda has it (GetFunction): does it
      exist (a new function needs the role), its architecture and role

  Each problem comes with the exact fix. The task exits with status 1 when
  a deploy would fail.

      mix lambda.doctor
      mix lambda.doctor --online
      MIX_ENV=prod mix lambda.doctor --architecture arm64 --profile prod

  The work is `LambdaRuntime.Tools.Deploy.Doctor`'s.

  ## Options

    * `--online` - also ask Lambda about the function (needs credentials)
    * `--architecture x86_64|arm64` - the function's architecture (default:
      the `lambda:` `architecture`, else this machine's)
    * `--region REGION`, `--profile NAME` - as for `mix lambda.deploy`
    * `--layer-zip PATH` - the layer zip a deploy would use
  """
  use Mix.Task

  alias LambdaRuntime.Tools.CLI
  alias LambdaRuntime.Tools.Deploy.Doctor

  @switches [
    online: :boolean,
    architecture: :string,
    region: :string,
    profile: :string,
    layer_zip: :string
  ]

  @impl Mix.Task
  def run(args) do
    {opts, []} = CLI.parse!("lambda.doctor", args, switches: @switches)
    Mix.Task.run("compile", [])
    project = Mix.Project.config()
    Mix.shell().info("lambda doctor: #{project[:app]} (MIX_ENV=#{Mix.env()})\n")

    checks =
      Doctor.run(
        project: project,
        flags: Keyword.take(opts, [:architecture, :region]),
        profile: opts[:profile],
        layer_zip: opts[:layer_zip],
        online: Keyword.get(opts, :online, false)
      )

    Mix.shell().info(Doctor.format(checks))
    if Doctor.failed?(checks), do: exit({:shutdown, 1})
  end
end
