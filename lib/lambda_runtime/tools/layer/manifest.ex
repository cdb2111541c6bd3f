defmodule LambdaRuntime.Tools.Layer.Manifest do
  @moduledoc """
  The layer manifest: `lambda_runtime-layer.json` at the root of the layer
  zip (so `/opt/lambda_runtime-layer.json` on Lambda; the name is specific
  because layers are merged into `/opt`). It says what the layer was built
  for and how, and `mix lambda.deploy` and `mix lambda.layer.publish` read
  it before uploading anything (`check_deployable/2`).

      {
        "format": 1,
        "architecture": "arm64",
        "target": "provided.al2023",
        "glibc": "2.31",
        "needs": {"GLIBC": "2.29"},
        "otp": "25.2.3",
        "erts": "13.1.5",
        "elixir": "1.14.0",
        "runtime": "0.1.0",
        "erts_build": "zig",
        "flavor": "jit",
        "libcrypto": "system",
        "zig": "0.17.1",
        "forced": []
      }

  Fields: `format` (1), `architecture` (`x86_64`/`arm64`), `target` (the
  Lambda runtime, `provided.al2023`), `glibc` (the glibc the build
  targeted), `needs` (the newest symbol version per family the ELF check
  found, `LambdaRuntime.Tools.Layer.ElfCheck`), `otp`, `erts`, `elixir`,
  `runtime` (lambda_runtime's version), `erts_build` (`zig` or `host`),
  `flavor` (`jit` or `emu`), `libcrypto` (`system`: the image's
  `libcrypto.so.3`; `bundled`), `zig` (its version, or null) and `forced`
  (why the layer was built past the target's limits; empty normally).

  The builder writes it with `new/1` and `encode/1`; deploy reads it with
  `read_zip/1` (or `read_zip_binary/2`) without unzipping the rest.
  """

  alias LambdaRuntime.JSON

  @file_name "lambda_runtime-layer.json"
  @format 1
  @target "provided.al2023"
  @order ~w(format architecture target glibc needs otp erts elixir runtime erts_build
            flavor libcrypto zig forced)a
  @choices %{
    architecture: ~w(x86_64 arm64),
    erts_build: ~w(zig host),
    flavor: ~w(jit emu),
    libcrypto: ~w(system bundled)
  }
  @required ~w(architecture glibc otp erts elixir runtime erts_build flavor libcrypto)a

  defstruct format: @format,
            architecture: nil,
            target: @target,
            glibc: nil,
            needs: %{},
            otp: nil,
            erts: nil,
            elixir: nil,
            runtime: nil,
            erts_build: nil,
            flavor: nil,
            libcrypto: nil,
            zig: nil,
            forced: [],
            source: nil

  @type t :: %__MODULE__{}
  @type read_error ::
          {:missing, String.t()}
          | {:unreadable, String.t(), String.t()}
          | {:invalid, String.t(), String.t()}
          | {:format, String.t(), integer()}

  @doc "The manifest's file name at the zip root: `#{@file_name}`."
  def file_name, do: @file_name

  @doc "The manifest format this version writes and reads."
  def format, do: @format

  @doc """
  Builds a manifest from a map (atom or string keys) with the fields above;
  `format` and `target` default to 1 and `provided.al2023`, `needs` to `%{}`,
  `zig` to nil, `forced` to `[]`. `architecture` may be an atom, `glibc` a
  `{2, 31}` tuple. Raises `ArgumentError` naming a missing or bad field.
  """
  @spec new(map()) :: t()
  def new(fields) when is_map(fields) do
    case from_map(fields) do
      {:ok, manifest} -> manifest
      {:error, message} -> raise ArgumentError, "layer manifest: " <> message
    end
  end

  @doc "The manifest as JSON text, one field per line in a fixed order."
  @spec encode(t()) :: String.t()
  def encode(%__MODULE__{} = m) do
    lines =
      Enum.map_join(@order, ",\n", fn key ->
        "  #{JSON.encode!(Atom.to_string(key))}: #{JSON.encode!(Map.fetch!(m, key))}"
      end)

    "{\n" <> lines <> "\n}\n"
  end

  @doc "Parses manifest JSON; `source` names it in errors."
  @spec decode(String.t(), String.t()) :: {:ok, t()} | {:error, read_error()}
  def decode(json, source \\ @file_name) do
    with {:ok, map} when is_map(map) <- JSON.decode(json),
         :ok <- known_format(map, source),
         {:ok, manifest} <- from_map(map) do
      {:ok, %{manifest | source: source}}
    else
      {:error, {:format, _, _}} = error -> error
      {:ok, _} -> {:error, {:invalid, source, "it is not a JSON object"}}
      {:error, %JSON.DecodeError{} = e} -> {:error, {:invalid, source, Exception.message(e)}}
      {:error, message} -> {:error, {:invalid, source, message}}
    end
  end

  # A newer format may have fields this version does not know: say so
  # instead of listing them.
  defp known_format(%{"format" => format}, source) when is_integer(format) and format != @format,
    do: {:error, {:format, source, format}}

  defp known_format(_map, _source), do: :ok

  @doc """
  Reads the manifest from the layer zip at `path`, extracting only that
  entry. Errors: `{:missing, path}`, `{:unreadable, path, why}`,
  `{:invalid, path, why}`, `{:format, path, n}` (see `format_error/2`).
  """
  @spec read_zip(Path.t()) :: {:ok, t()} | {:error, read_error()}
  def read_zip(path), do: extract(String.to_charlist(path), path)

  @doc "Like `read_zip/1`, for zip bytes already in memory; `source` names them."
  @spec read_zip_binary(binary(), String.t()) :: {:ok, t()} | {:error, read_error()}
  def read_zip_binary(bytes, source) when is_binary(bytes), do: extract(bytes, source)

  defp extract(archive, source) do
    name = String.to_charlist(@file_name)

    case :zip.extract(archive, [{:file_list, [name]}, :memory]) do
      {:ok, [{^name, json}]} ->
        decode(json, source)

      {:ok, []} ->
        {:error, {:missing, source}}

      {:error, reason} when reason in [:enoent, :eacces, :eisdir] ->
        {:error, {:unreadable, source, reason |> :file.format_error() |> to_string()}}

      {:error, reason} ->
        {:error, {:unreadable, source, "not a readable zip (#{inspect(reason)})"}}
    end
  end

  @doc """
  Whether a layer may be deployed for a function of `architecture`
  (`"x86_64"`/`"arm64"`): `:ok`, or `{:error, message}` naming the reason
  and the fix. Takes a manifest, `{:ok, manifest}` or a `read_zip/1` error.
  Refused: no manifest (an older lambda_runtime, or not its layer), an
  unknown format, another target than `provided.al2023`, another
  architecture, and a layer built past the target's limits (`forced`).
  """
  @spec check_deployable(t() | {:ok, t()} | {:error, read_error()}, String.t()) ::
          :ok | {:error, String.t()}
  def check_deployable({:ok, manifest}, architecture),
    do: check_deployable(manifest, architecture)

  def check_deployable({:error, error}, architecture),
    do: {:error, format_error(error, architecture)}

  def check_deployable(%__MODULE__{} = m, architecture) do
    name = m.source || "the layer"
    rebuild = "mix lambda.layer --arch #{architecture}"

    cond do
      m.format != @format ->
        {:error, format_error({:format, name, m.format}, architecture)}

      m.target != @target ->
        {:error,
         "#{name} was built for #{m.target}, but functions are deployed on #{@target}. " <>
           "Rebuild it with `#{rebuild}`."}

      m.architecture != architecture ->
        {:error,
         "#{name} is built for #{m.architecture}, but the function's architecture is " <>
           "#{architecture}. Build the layer with `#{rebuild}`, or deploy the function as " <>
           "#{m.architecture} (--architecture #{m.architecture})."}

      m.forced != [] ->
        {:error,
         "#{name} was built past #{m.target}'s limits (#{Enum.join(m.forced, "; ")}), so it " <>
           "may not start on Lambda. Rebuild it without forcing: `#{rebuild}`."}

      true ->
        :ok
    end
  end

  @doc "A sentence for a `read_zip/1` error, with the fix."
  @spec format_error(read_error(), String.t()) :: String.t()
  def format_error(error, architecture \\ "x86_64")

  def format_error({:missing, source}, architecture) do
    "#{source} has no #{@file_name}: it was built by an older lambda_runtime or is not a " <>
      "lambda_runtime layer, so nothing says which architecture and C libraries it was built " <>
      "for. Rebuild it with `mix lambda.layer --arch #{architecture}`."
  end

  def format_error({:unreadable, source, why}, architecture) do
    "cannot read the layer zip #{source}: #{why}. Pass a zip built by " <>
      "`mix lambda.layer --arch #{architecture}`."
  end

  def format_error({:format, source, format}, architecture) do
    "#{source} has a layer manifest of format #{inspect(format)}; this lambda_runtime reads " <>
      "format #{@format}. Upgrade lambda_runtime, or rebuild the layer with " <>
      "`mix lambda.layer --arch #{architecture}`."
  end

  def format_error({:invalid, source, why}, architecture) do
    "the #{@file_name} in #{source} is not valid: #{why}. Rebuild the layer with " <>
      "`mix lambda.layer --arch #{architecture}`."
  end

  defp from_map(fields) do
    fields = Map.new(fields, fn {k, v} -> {to_key(k), v} end)

    with :ok <- unknown_keys(fields),
         {:ok, fields} <- normalize(fields),
         :ok <- required(fields),
         :ok <- valid(fields) do
      {:ok, struct(__MODULE__, Map.delete(fields, :source))}
    end
  end

  defp to_key(key) when is_atom(key), do: key

  defp to_key(key) when is_binary(key) do
    Enum.find(@order, key, &(Atom.to_string(&1) == key))
  end

  defp unknown_keys(fields) do
    case Enum.reject(Map.keys(fields), &(&1 in @order or &1 == :source)) do
      [] -> :ok
      keys -> {:error, "unknown fields #{Enum.map_join(keys, ", ", &inspect/1)}"}
    end
  end

  defp normalize(fields) do
    fields =
      fields
      |> update(:architecture, fn a ->
        if is_atom(a) and a != nil, do: Atom.to_string(a), else: a
      end)
      |> update(:glibc, fn
        {major, minor} -> "#{major}.#{minor}"
        other -> other
      end)
      |> update(:flavor, &atom_to_string/1)
      |> update(:erts_build, &atom_to_string/1)
      |> update(:libcrypto, &atom_to_string/1)

    {:ok,
     Map.merge(%{format: @format, target: @target, needs: %{}, zig: nil, forced: []}, fields)}
  end

  defp update(map, key, fun),
    do: if(Map.has_key?(map, key), do: Map.update!(map, key, fun), else: map)

  defp atom_to_string(a) when is_atom(a) and a != nil, do: Atom.to_string(a)
  defp atom_to_string(other), do: other

  defp required(fields) do
    case Enum.filter(@required, &(Map.get(fields, &1) in [nil, ""])) do
      [] -> :ok
      keys -> {:error, "missing #{Enum.map_join(keys, ", ", &Atom.to_string/1)}"}
    end
  end

  defp valid(fields) do
    checks =
      [
        {:format, &is_integer/1, "must be an integer"},
        {:target, &is_binary/1, "must be a string such as \"provided.al2023\""},
        {:glibc, &(is_binary(&1) and Regex.match?(~r/^\d+\.\d+$/, &1)),
         "must be a version such as \"2.31\""},
        {:needs, &valid_needs?/1,
         "must map version families to versions, e.g. {\"GLIBC\": \"2.29\"}"},
        {:zig, &(is_nil(&1) or is_binary(&1)), "must be a version string or null"},
        {:forced, &(is_list(&1) and Enum.all?(&1, fn r -> is_binary(r) end)),
         "must be a list of reasons (strings)"}
      ] ++
        for key <- [:otp, :erts, :elixir, :runtime] do
          {key, &is_binary/1, "must be a version string"}
        end ++
        for {key, allowed} <- @choices do
          {key, &(&1 in allowed), "must be one of #{Enum.join(allowed, ", ")}"}
        end

    case Enum.find(checks, fn {key, ok?, _} -> not ok?.(Map.get(fields, key)) end) do
      nil -> :ok
      {key, _, sentence} -> {:error, "#{key} #{sentence}, got #{inspect(Map.get(fields, key))}"}
    end
  end

  defp valid_needs?(needs) when is_map(needs),
    do: Enum.all?(needs, fn {k, v} -> is_binary(k) and is_binary(v) end)

  defp valid_needs?(_), do: false
end
