defmodule LambdaRuntime.Tools.Deploy.DoctorTest do
  # mix lambda.doctor's checks, with the project settings and the
  # environment given (no AWS settings of this machine's), offline and
  # against moto.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Deploy.Doctor
  alias LambdaRuntime.Tools.Layer.Manifest
  alias LambdaRuntime.TestSupport.Moto

  @moduletag :tmp_dir

  defmodule Fn do
    def handle(event, _context), do: {:ok, event}
  end

  @secret "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
  @key_id "AKIAIOSFODNN7EXAMPLE"

  defp run(dir, lambda, env, opts \\ []) do
    project = [app: :doctor_probe, lambda: lambda]
    # No shared AWS files of this machine's.
    env =
      Map.merge(
        %{
          "AWS_CONFIG_FILE" => Path.join(dir, "none"),
          "AWS_SHARED_CREDENTIALS_FILE" => Path.join(dir, "none")
        },
        env
      )

    checks = Doctor.run([project: project, env: env, build_root: dir] ++ opts)
    {checks, Doctor.format(checks)}
  end

  defp check(checks, name), do: Enum.find(checks, &(&1.name == name)) || flunk("no #{name} check")

  @good [
    handler: "#{inspect(Fn)}.handle",
    role: "arn:aws:iam::123456789012:role/probe",
    region: "eu-west-1"
  ]

  test "a project ready to deploy: nothing stops it, and no secret is shown", %{tmp_dir: dir} do
    env = %{
      "AWS_ACCESS_KEY_ID" => @key_id,
      "AWS_SECRET_ACCESS_KEY" => @secret,
      "AWS_SESSION_TOKEN" => "tok-SECRET"
    }

    {checks, text} = run(dir, @good, env)

    refute Doctor.failed?(checks), text
    assert check(checks, "credentials").summary == "from environment variables"

    assert check(checks, "region").summary =~
             "eu-west-1, Lambda at https://lambda.eu-west-1.amazonaws.com"

    assert check(checks, "handler").summary =~ "#{inspect(Fn)}.handle/2"
    assert check(checks, "NIF").summary =~ "loads"
    assert text =~ "Nothing would stop a deploy"

    for secret <- [@secret, @key_id, "tok-SECRET"], do: refute(text =~ secret)
  end

  test "each problem that stops a deploy, with its fix", %{tmp_dir: dir} do
    {checks, text} = run(dir, [handler: "Nope.handle"], %{})
    assert Doctor.failed?(checks)

    assert %{status: :error, fix: fix} = check(checks, "handler")
    assert fix =~ "lambda: [handler: ...]"

    assert %{status: :error, summary: "no AWS credentials found" <> _} =
             check(checks, "credentials")

    assert %{status: :error, fix: "pass --region" <> _} = check(checks, "region")
    assert %{status: :warn, fix: role_fix} = check(checks, "role")
    assert role_fix =~ ~s(role: "arn:aws:iam::ACCOUNT:role/doctor_probe-lambda")
    assert text =~ ~r/3 problems would stop a deploy; 1 warning\.$/
    assert text =~ "fix: pass --region"

    {checks, _} = run(dir, [hanlder: "X.y"], %{})
    assert %{status: :error, summary: summary} = check(checks, "lambda: config")
    assert summary =~ "hanlder"
  end

  test "a layer zip of the other architecture, or from another OTP", %{tmp_dir: dir} do
    zip = Path.join(dir, "lambda/layer-x86_64.zip")
    File.mkdir_p!(Path.dirname(zip))

    write_layer = fn fields ->
      manifest =
        Manifest.new(
          Map.merge(
            %{
              architecture: "arm64",
              target: "provided.al2023",
              glibc: "2.31",
              otp: LambdaRuntime.Tools.Layer.OtpSource.host_otp_version(),
              erts: "13.1.5",
              elixir: System.version(),
              runtime: "0.1.0",
              erts_build: "zig",
              flavor: "emu",
              libcrypto: "system"
            },
            fields
          )
        )

      {:ok, _} =
        :zip.create(String.to_charlist(zip), [
          {~c"lambda_runtime-layer.json", Manifest.encode(manifest)}
        ])
    end

    write_layer.(%{})
    {checks, _} = run(dir, @good ++ [architecture: "x86_64"], %{})
    assert %{status: :error, summary: summary} = check(checks, "architecture")
    assert summary =~ "built for arm64, but the function's architecture is x86_64"

    write_layer.(%{architecture: "x86_64", otp: "24.3", elixir: "1.13.0"})
    {checks, _} = run(dir, @good ++ [architecture: "x86_64"], %{})
    assert %{status: :warn, summary: summary} = check(checks, "layer zip")
    assert summary =~ "OTP 24.3"

    {checks, _} =
      run(dir, @good ++ [layer_arn: "arn:aws:lambda:eu-west-1:123456789012:layer:elixir:3"], %{})

    assert check(checks, "layer tools").summary =~ "not needed: layer_arn"
  end

  @tag :deploy
  test "online: a missing function needs the role; an existing one does not", %{tmp_dir: dir} do
    moto = Moto.start!()
    on_exit(fn -> Moto.stop(moto) end)
    lambda = [handler: "#{inspect(Fn)}.handle", region: "us-east-1"]

    {checks, _} = run(dir, lambda, Moto.env(moto), online: true)

    assert %{status: :info, summary: "doctor_probe does not exist yet" <> _} =
             check(checks, "function")

    assert %{
             status: :error,
             summary: "not set, and the function doctor_probe does not exist yet" <> _
           } = check(checks, "role")

    assert Doctor.failed?(checks)
  end
end
