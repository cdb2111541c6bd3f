defmodule LambdaRuntime.Native do
  @moduledoc false
  # NIF stubs only. The implementations live in native/lambda_runtime_nif;
  # the public API is in LambdaRuntime.Client and LambdaRuntime.JSON.

  @on_load :load_nif

  @doc false
  def load_nif do
    case :code.priv_dir(:lambda_runtime) do
      {:error, reason} ->
        {:error, {:no_priv_dir, reason}}

      priv ->
        path = :filename.join(priv, ~c"native/liblambda_runtime_nif")
        :erlang.load_nif(path, 0)
    end
  end

  # Runtime API client (dirty IO, except the constructors and
  # client_respond_next, which writes a small response ahead without
  # blocking and then moves itself onto a dirty IO thread).
  def client_new(_api, _timeout_ms), do: :erlang.nif_error(:nif_not_loaded)
  def client_base_url(_client), do: :erlang.nif_error(:nif_not_loaded)
  def client_next(_client), do: :erlang.nif_error(:nif_not_loaded)

  def client_response(_client, _request_id, _invocation_id, _body),
    do: :erlang.nif_error(:nif_not_loaded)

  def client_respond_next(_client, _request_id, _invocation_id, _body, _mark),
    do: :erlang.nif_error(:nif_not_loaded)

  def client_error(_client, _request_id, _invocation_id, _report),
    do: :erlang.nif_error(:nif_not_loaded)

  def client_init_error(_client, _report), do: :erlang.nif_error(:nif_not_loaded)

  # In-flight marks, for LambdaRuntime.Shutdown (normal scheduler).
  def in_flight_mark, do: :erlang.nif_error(:nif_not_loaded)
  def in_flight_release(_mark), do: :erlang.nif_error(:nif_not_loaded)
  def in_flight_count, do: :erlang.nif_error(:nif_not_loaded)

  # Streamed responses (dirty IO).
  def stream_open(_client, _request_id, _invocation_id, _content_type),
    do: :erlang.nif_error(:nif_not_loaded)

  def stream_write(_stream, _iodata), do: :erlang.nif_error(:nif_not_loaded)
  def stream_finish(_stream), do: :erlang.nif_error(:nif_not_loaded)

  def stream_fail(_stream, _report), do: :erlang.nif_error(:nif_not_loaded)

  def stream_bytes_sent(_stream), do: :erlang.nif_error(:nif_not_loaded)

  # JSON: normal scheduler for small work, dirty CPU for large.
  def json_decode(_binary), do: :erlang.nif_error(:nif_not_loaded)
  def json_decode_dirty(_binary), do: :erlang.nif_error(:nif_not_loaded)
  def json_encode(_term), do: :erlang.nif_error(:nif_not_loaded)
  def json_encode_dirty(_term), do: :erlang.nif_error(:nif_not_loaded)
  def json_encode_resume(_prefix, _frames), do: :erlang.nif_error(:nif_not_loaded)

  # Panics on purpose (tests prove a panic cannot take the VM down).
  def debug_panic, do: :erlang.nif_error(:nif_not_loaded)
end
