defmodule LambdaRuntime.AWS.BotocoreCrossCheckTest do
  # Our SigV4 signatures for Lambda-shaped requests against botocore's
  # (the AWS SDK for Python, installed in .venv as a dependency of moto): an
  # independent, maintained implementation signing the same requests.
  use ExUnit.Case, async: true

  alias LambdaRuntime.AWS.{Credentials, SigV4}

  @python LambdaRuntime.TestSupport.Paths.root(".venv/bin/python")
  @time ~U[2026-11-27 12:00:00Z]

  @script """
  import json, sys
  from botocore.auth import SigV4Auth
  from botocore.awsrequest import AWSRequest
  from botocore.credentials import Credentials
  for case in json.load(sys.stdin):
      req = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode(),
                       headers=case["headers"])
      req.headers["X-Amz-Date"] = case["amz_date"]
      req.context["timestamp"] = case["amz_date"]
      if case["token"]:
          req.headers["X-Amz-Security-Token"] = case["token"]
      auth = SigV4Auth(Credentials(case["key"], case["secret"], case["token"]),
                       case["service"], case["region"])
      canonical = auth.canonical_request(req)
      print(auth.signature(auth.string_to_sign(req, canonical), req))
  """

  @cases [
    {"GET", "/2015-03-31/functions/hello", "", [], "", nil},
    {"GET", "/2018-10-31/layers/elixir-runtime/versions", "MaxItems=50", [], "", nil},
    {"POST", "/2015-03-31/functions", "", [{"content-type", "application/json"}],
     ~s({"FunctionName":"hello","Code":{"ZipFile":"UEsDBA=="}}), "session/token+="},
    {"PUT",
     "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ahello/code",
     "", [{"content-type", "application/json"}], ~s({"ZipFile":"UEsDBA=="}), nil},
    {"GET", "/2015-03-31/functions/hello/aliases/live%20now", "Marker=a%2Fb&A=z", [], "", "tok"}
  ]

  test "signatures match botocore's" do
    unless File.exists?(@python), do: flunk("#{@python} is missing; run scripts/setup.sh")

    input =
      Enum.map(@cases, fn {method, path, query, headers, body, token} ->
        query_part = if query == "", do: "", else: "?" <> query

        %{
          method: method,
          url: "http://127.0.0.1:5000" <> path <> query_part,
          headers: Map.new(headers),
          body: body,
          token: token,
          key: "AKIDCROSSCHECK",
          secret: "cross/check+secret",
          service: "lambda",
          region: "eu-west-1",
          amz_date: SigV4.amz_date(@time)
        }
      end)

    script =
      Path.join(System.tmp_dir!(), "sigv4_cross_check_#{System.unique_integer([:positive])}.py")

    File.write!(script, @script)
    stdin = Path.join(System.tmp_dir!(), "sigv4_cases_#{System.unique_integer([:positive])}.json")
    File.write!(stdin, LambdaRuntime.JSON.encode!(input))

    {out, 0} = System.cmd("sh", ["-c", ~s("#{@python}" "#{script}" < "#{stdin}")])
    File.rm(script)
    File.rm(stdin)
    expected = String.split(out, "\n", trim: true)
    assert length(expected) == length(@cases)

    ours =
      Enum.map(@cases, fn {method, path, query, headers, body, token} ->
        creds = %Credentials{
          access_key_id: "AKIDCROSSCHECK",
          secret_access_key: "cross/check+secret",
          session_token: token,
          source: "test"
        }

        request = %{
          method: method,
          host: "127.0.0.1:5000",
          path: path,
          query: query,
          headers: headers,
          body: body
        }

        {_, auth} =
          request
          |> SigV4.sign(creds, region: "eu-west-1", service: "lambda", time: @time)
          |> List.keyfind("authorization", 0)

        [_, signature] = Regex.run(~r/Signature=([0-9a-f]{64})$/, auth)
        signature
      end)

    assert ours == expected
  end
end
