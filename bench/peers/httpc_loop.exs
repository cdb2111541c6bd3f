# The "seed" peer: a pure-Elixir Runtime API loop on :httpc, with JSON by
# :jiffy (Debian's erlang-jiffy). It is what a first custom runtime looks
# like: GET /next, decode, call the handler, encode, POST the response.
# Benchmark-only; not shipped.
#
#   AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 elixir bench/peers/httpc_loop.exs
defmodule HttpcLoop do
  @profile :bench_httpc_loop

  def main do
    {:ok, _} = Application.ensure_all_started(:inets)
    {:ok, _} = :inets.start(:httpc, profile: @profile)

    :ok =
      :httpc.set_options(
        [max_sessions: 1, max_keep_alive_length: 1_000_000, socket_opts: [nodelay: true]],
        @profile
      )

    loop(base_url() <> "/2018-06-01/runtime/invocation/")
  end

  defp base_url do
    case System.fetch_env!("AWS_LAMBDA_RUNTIME_API") do
      "http" <> _ = url -> String.trim_trailing(url, "/")
      host_port -> "http://" <> host_port
    end
  end

  defp loop(base) do
    {:ok, {{_, 200, _}, headers, body}} =
      :httpc.request(
        :get,
        {~c"#{base}next", []},
        [timeout: :infinity],
        [body_format: :binary],
        @profile
      )

    request_id = :proplists.get_value(~c"lambda-runtime-aws-request-id", headers)
    event = :jiffy.decode(body, [:return_maps])
    response = :jiffy.encode(handle(event))
    url = ~c"#{base}#{request_id}/response"

    {:ok, {{_, status, _}, _, _}} =
      :httpc.request(:post, {url, [], ~c"application/json", response}, [], [], @profile)

    true = status in 200..299
    loop(base)
  end

  defp handle(event), do: event
end

HttpcLoop.main()
