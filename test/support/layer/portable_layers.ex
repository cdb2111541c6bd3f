defmodule LambdaRuntime.TestSupport.PortableLayers do
  @moduledoc """
  The portable layer zips the tests run, built by the real `mix
  lambda.layer` (MIX_ENV=prod) once per test run and architecture.

  The slow parts (OpenSSL, ERTS) come from the build cache, so after the
  first build on a machine a layer takes seconds; the project's prod build
  and cargo's target directory live in `_build/portable`, kept between
  runs. The OTP sources are `$LAMBDA_OTP_SOURCE`, else Debian's source
  package of the installed OTP (`scripts/otp-source.sh`).

      zip = PortableLayers.zip!(:arm64)
      zip = PortableLayers.zip!(:x86_64, ["--flavor", "emu"])

  `$LAMBDA_TEST_LAYER_ARGS` (e.g. `--flavor jit`) is added to every build:
  `scripts/matrix.sh` runs the same tests on each flavor that way.
  """

  @root LambdaRuntime.TestSupport.Paths.root()

  @doc "The path of the layer zip for `arch` built with `extra_args`."
  @spec zip!(:x86_64 | :arm64, [String.t()]) :: Path.t()
  def zip!(arch, extra_args \\ []) do
    extra_args = extra_args ++ OptionParser.split(System.get_env("LAMBDA_TEST_LAYER_ARGS", ""))
    key = {__MODULE__, arch, extra_args}

    case :persistent_term.get(key, nil) do
      nil ->
        path = build!(arch, extra_args)
        :persistent_term.put(key, path)
        path

      path ->
        path
    end
  end

  @doc """
  The `libcrypto.so.3` (OpenSSL 3.0, built for glibc 2.31) the layers'
  crypto NIF was linked against: the old-glibc roots' stand-in for
  AL2023's (bullseye has only OpenSSL 1.1). Built once, then cached.
  """
  @spec libcrypto!(:x86_64 | :arm64) :: Path.t()
  def libcrypto!(arch) do
    alias LambdaRuntime.Tools.Layer.{OpenSSL, Platform, Zig}
    platform = %Platform{arch: arch, glibc: Platform.default_glibc()}
    Path.join(OpenSSL.build!(:link, platform, Zig.find!()), "lib/libcrypto.so.3")
  end

  @doc "The OTP sources the layers are built from."
  def otp_source do
    case System.get_env("LAMBDA_OTP_SOURCE") do
      dir when dir not in [nil, ""] ->
        dir

      _ ->
        {out, 0} =
          System.cmd(Path.join(@root, "scripts/otp-source.sh"), [], stderr_to_stdout: false)

        out |> String.split("\n", trim: true) |> List.last()
    end
  end

  @doc "Runs `mix args` in the repository for the portable build; returns its output."
  def mix!(args),
    do: LambdaRuntime.TestSupport.Build.mix!(@root, Path.join(@root, "_build/portable"), args)

  defp build!(arch, extra_args) do
    name = Enum.join(["layer", arch | Enum.map(extra_args, &String.trim_leading(&1, "-"))], "-")
    output = Path.join(@root, "_build/portable/lambda/#{name}.zip")
    args = ["lambda.layer", "--arch", "#{arch}", "--otp-source", otp_source(), "--output", output]
    mix!(args ++ extra_args)
    output
  end
end
