defmodule LambdaRuntime.JSON do
  @moduledoc """
  JSON encoding and decoding, done in Rust.

  Small documents are handled on the calling scheduler (a dirty-scheduler
  hop costs more than decoding a typical event); documents over
  16 KiB run on a dirty CPU scheduler, and an encode whose output passes
  32 KiB carries on there from where it stopped, so that no call holds a
  normal scheduler for long.

  This is the codec the runtime uses for events and responses; it is public
  so that handlers need no other JSON library.

  ## Decoding

    * objects become maps with binary keys (the last of duplicate keys wins)
    * arrays become lists, strings binaries, `null` becomes `nil`
    * integers of any size stay integers; numbers with a fraction or an
      exponent become floats, except those beyond a float's range (`1e400`),
      which become `LambdaRuntime.JSON.BigNumber` structs holding their
      text (Python would give `inf`, Node `Infinity`; neither is JSON)
    * nesting deeper than #{1024} levels is an error, never a crash

  ## Encoding

    * maps with atom, binary or integer keys; lists; UTF-8 binaries;
      integers of any size; floats; `true`, `false` and `nil` (as `null`)
    * any other atom becomes a string (`:ok` is `"ok"`)
    * a map with two keys that name the same object key (`%{:a => 1, "a" => 2}`,
      `%{1 => 1, "1" => 2}`) is an error: JSON with a repeated name is
      ambiguous (readers keep either value)
    * `LambdaRuntime.JSON.BigNumber` is written as its text
    * structs go through the `LambdaRuntime.JSON.Encoder` protocol:
      `DateTime`, `NaiveDateTime`, `Date` and `Time` become ISO 8601
      strings, other structs their fields as an object unless they
      implement the protocol
    * tuples, pids, ports, references, functions and binaries that are not
      UTF-8 are errors that name the offending term

      iex> LambdaRuntime.JSON.encode!(%{"a" => [1, 2.5, nil, true]})
      ~s({"a":[1,2.5,null,true]})

      iex> LambdaRuntime.JSON.decode!(~s({"n": 123456789012345678901234567890}))
      %{"n" => 123456789012345678901234567890}
  """

  alias LambdaRuntime.JSON.{DecodeError, EncodeError, Encoder}
  alias LambdaRuntime.Native

  @doc "Decodes a JSON document."
  @spec decode(iodata()) :: {:ok, term()} | {:error, DecodeError.t()}
  # Inputs up to this size decode on the calling scheduler (well under 1 ms).
  @small_input 16 * 1024

  def decode(json) when is_binary(json) do
    result =
      if byte_size(json) <= @small_input,
        do: Native.json_decode(json),
        else: Native.json_decode_dirty(json)

    case result do
      {:ok, term} ->
        {:ok, term}

      {:error, {position, message}} ->
        {:error, %DecodeError{position: position, message: message}}
    end
  end

  def decode(json) when is_list(json), do: json |> IO.iodata_to_binary() |> decode()

  @doc "Decodes a JSON document, raising `LambdaRuntime.JSON.DecodeError` on bad input."
  @spec decode!(iodata()) :: term()
  def decode!(json) do
    case decode(json) do
      {:ok, term} -> term
      {:error, error} -> raise error
    end
  end

  @doc "Encodes a term as a JSON binary."
  @spec encode(term()) :: {:ok, binary()} | {:error, EncodeError.t()}
  def encode(term) do
    case encode_native(term) do
      {:ok, json} ->
        {:ok, json}

      # Structs are rare in responses: only then is the term walked in Elixir.
      {:error, {:struct, _}} ->
        case term |> expand_structs() |> encode_native() do
          {:ok, json} -> {:ok, json}
          {:error, reason} -> {:error, EncodeError.exception(reason)}
        end

      {:error, reason} ->
        {:error, EncodeError.exception(reason)}
    end
  end

  # Past 32 KiB of output (or before a string value that would take it past)
  # the normal-scheduler encode pauses; a dirty CPU scheduler carries on
  # from where it stopped.
  defp encode_native(term) do
    case Native.json_encode(term) do
      {:cont, prefix, frames} -> Native.json_encode_resume(prefix, frames)
      result -> result
    end
  end

  @doc "Encodes a term as a JSON binary, raising `LambdaRuntime.JSON.EncodeError` on failure."
  @spec encode!(term()) :: binary()
  def encode!(term) do
    case encode(term) do
      {:ok, json} -> json
      {:error, error} -> raise error
    end
  end

  # Replaces every struct, at any depth, with what its Encoder gives. A
  # BigNumber stays: the NIF writes its text.
  defp expand_structs(%LambdaRuntime.JSON.BigNumber{} = number), do: number
  defp expand_structs(%_{} = struct), do: struct |> Encoder.encode() |> expand_structs()

  defp expand_structs(map) when is_map(map),
    do: Map.new(map, fn {k, v} -> {k, expand_structs(v)} end)

  defp expand_structs([head | tail]), do: [expand_structs(head) | expand_structs(tail)]
  defp expand_structs(other), do: other
end
