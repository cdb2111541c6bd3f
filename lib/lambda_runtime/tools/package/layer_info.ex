defmodule LambdaRuntime.Tools.Package.LayerInfo do
  @moduledoc """
  What a layer provides to a function package: its applications (name and
  version) and the OTP compiler version its beams were built with, read
  either from a layer zip (`lib/APP-VSN/` entries) or, by default, from this
  machine's installation (the layer `mix lambda.layer` builds here).
  """

  alias LambdaRuntime.Tools.Layer.Contents
  alias LambdaRuntime.OTPApps

  defstruct [:source, :apps, :compiler_vsn, :otp_release]

  @type t :: %__MODULE__{
          source: String.t(),
          apps: %{atom() => String.t()},
          compiler_vsn: String.t(),
          otp_release: String.t() | nil
        }

  @doc "The layer `mix lambda.layer` builds on this machine."
  @spec local(String.t()) :: t()
  def local(runtime_vsn) do
    # On Elixir 1.15+ Mix prunes OTP apps outside the project's deps from
    # the code path, where Contents looks for them.
    with {:error, message} <- OTPApps.ensure_available(Contents.apps()),
         do: Mix.raise(message <> "; the layer needs it")

    apps = Map.new(Contents.apps(), fn app -> {app, elem(Contents.app_source(app), 1)} end)

    %__MODULE__{
      source: "this machine's OTP #{Contents.otp_release()}",
      apps: Map.put(apps, :lambda_runtime, runtime_vsn),
      compiler_vsn: apps.compiler,
      otp_release: Contents.otp_release()
    }
  end

  @doc "Reads a layer zip built by `mix lambda.layer`."
  @spec from_zip(Path.t()) :: {:ok, t()} | {:error, String.t()}
  def from_zip(path) do
    case :zip.list_dir(String.to_charlist(path)) do
      {:ok, [_comment | entries]} ->
        apps =
          for {:zip_file, name, _, _, _, _} <- entries,
              [_, app, vsn] <- [Regex.run(~r{^lib/([a-z_0-9]+)-([^/]+)/}, to_string(name))],
              into: %{},
              do: {String.to_atom(app), vsn}

        case apps do
          %{compiler: compiler_vsn} ->
            {:ok,
             %__MODULE__{source: path, apps: apps, compiler_vsn: compiler_vsn, otp_release: nil}}

          _ ->
            {:error, "#{path} is not a lambda_runtime layer (it has no lib/compiler-VSN/)"}
        end

      {:error, reason} ->
        {:error, "cannot read the layer #{path}: #{inspect(reason)}"}
    end
  end
end
