defmodule LambdaRuntime.AWS.SigV4Test do
  use ExUnit.Case, async: true

  alias LambdaRuntime.AWS.{Credentials, SigV4}

  # Expected values are from the AWS Signature Version 4 test suite
  # (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html),
  # in the revision awslabs/aws-c-auth keeps in
  # tests/aws-signing-test-suite/v4 (<case>/header-canonical-request.txt,
  # header-string-to-sign.txt, header-signature.txt). Every case signs at
  # 2015-08-30T12:36:00Z for us-east-1/service with the suite's example key.
  @time ~U[2015-08-30 12:36:00Z]
  @creds %Credentials{
    access_key_id: "AKIDEXAMPLE",
    secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    source: "test suite"
  }
  @sts_token "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
  @unreserved "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

  # {name, method, path, query, extra headers, body, opts, signed headers, signature}
  @cases [
    {"get-vanilla", "GET", "/", "", [], "", [], "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-vanilla-empty-query-key", "GET", "/", "Param1=value1", [], "", [], "host;x-amz-date",
     "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
    {"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", [], "", [],
     "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"get-vanilla-query-order-encoded", "GET", "/",
     "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", [], "", [], "host;x-amz-date",
     "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"},
    {"get-vanilla-query-unreserved", "GET", "/", @unreserved <> "=" <> @unreserved, [], "", [],
     "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
    {"get-vanilla-utf8-query", "GET", "/", "ሴ=bar", [], "", [], "host;x-amz-date",
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"get-header-key-duplicate", "GET", "/", "",
     [{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}], "", [],
     "host;my-header1;x-amz-date",
     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-header-value-multiline", "GET", "/", "",
     [{"My-Header1", "value1\n  value2\n     value3"}], "", [], "host;my-header1;x-amz-date",
     "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd"},
    {"get-header-value-order", "GET", "/", "",
     [
       {"My-Header1", "value4"},
       {"My-Header1", "value1"},
       {"My-Header1", "value3"},
       {"My-Header1", "value2"}
     ], "", [], "host;my-header1;x-amz-date",
     "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
    {"get-header-value-trim", "GET", "/", "",
     [{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}], "", [],
     "host;my-header1;my-header2;x-amz-date",
     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"get-relative-normalized", "GET", "/example/..", "", [], "", [], "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-relative-relative-unnormalized", "GET", "/example1/example2/../..", "", [], "",
     [normalize_path: false], "host;x-amz-date",
     "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b"},
    {"get-slash-dot-slash-normalized", "GET", "/./", "", [], "", [], "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-slash-pointless-dot-normalized", "GET", "/./example", "", [], "", [], "host;x-amz-date",
     "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"},
    {"get-slashes-normalized", "GET", "//example//", "", [], "", [], "host;x-amz-date",
     "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
    {"get-slashes-unnormalized", "GET", "//example//", "", [], "", [normalize_path: false],
     "host;x-amz-date", "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"},
    {"get-space-normalized", "GET", "/example space/", "", [], "", [], "host;x-amz-date",
     "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
    {"get-unreserved", "GET", "/" <> @unreserved, "", [], "", [], "host;x-amz-date",
     "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"get-utf8", "GET", "/ሴ", "", [], "", [], "host;x-amz-date",
     "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
    {"post-vanilla", "POST", "/", "", [], "", [], "host;x-amz-date",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"post-vanilla-query", "POST", "/", "Param1=value1", [], "", [], "host;x-amz-date",
     "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
    {"post-header-key-sort", "POST", "/", "", [{"My-Header1", "value1"}], "", [],
     "host;my-header1;x-amz-date",
     "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
    {"post-header-value-case", "POST", "/", "", [{"My-Header1", "VALUE1"}], "", [],
     "host;my-header1;x-amz-date",
     "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
    {"post-x-www-form-urlencoded", "POST", "/", "",
     [{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "13"}],
     "Param1=value1", [sign_content_sha256: true],
     "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
     "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"},
    {"post-x-www-form-urlencoded-parameters", "POST", "/", "",
     [
       {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
       {"Content-Length", "13"}
     ], "Param1=value1", [sign_content_sha256: true],
     "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
     "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422"}
  ]

  defp request(method, path, query, headers, body) do
    %{
      method: method,
      host: "example.amazonaws.com",
      path: path,
      query: query,
      headers: [{"Host", "example.amazonaws.com"} | headers],
      body: body
    }
  end

  defp sign(request, creds \\ @creds, opts \\ []) do
    SigV4.sign(request, creds, [region: "us-east-1", service: "service", time: @time] ++ opts)
  end

  for {name, method, path, query, headers, body, opts, signed, sig} <- @cases do
    test "test suite case #{name}" do
      headers =
        sign(
          request(
            unquote(method),
            unquote(path),
            unquote(query),
            unquote(headers),
            unquote(body)
          ),
          @creds,
          unquote(opts)
        )

      assert {"authorization",
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " <>
                "SignedHeaders=#{unquote(signed)}, Signature=#{unquote(sig)}"} ==
               List.keyfind(headers, "authorization", 0)

      assert {"x-amz-date", "20150830T123600Z"} in headers
    end
  end

  test "get-vanilla: canonical request and string to sign" do
    req = request("GET", "/", "", [{"X-Amz-Date", "20150830T123600Z"}], "")
    canonical = SigV4.canonical_request(req)

    assert canonical ==
             "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n" <>
               "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    assert SigV4.string_to_sign(
             "20150830T123600Z",
             SigV4.scope(@time, "us-east-1", "service"),
             canonical
           ) ==
             "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" <>
               "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
  end

  test "get-vanilla-query-order-encoded: canonical query is decoded, re-encoded and sorted" do
    req = request("GET", "/", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", [], "")
    [_method, _uri, query | _] = req |> SigV4.canonical_request() |> String.split("\n")
    assert query == "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
  end

  test "get-vanilla-with-session-token signs the token header" do
    creds = %{
      @creds
      | session_token: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
    }

    headers = sign(request("GET", "/", "", [], ""), creds)

    assert {"x-amz-security-token", creds.session_token} in headers
    {_, auth} = List.keyfind(headers, "authorization", 0)
    assert auth =~ "SignedHeaders=host;x-amz-date;x-amz-security-token,"
    assert auth =~ "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
  end

  test "post-sts-header-before and -after: token signed, or sent unsigned" do
    creds = %{@creds | session_token: @sts_token}
    before = sign(request("POST", "/", "", [], ""), creds)
    {_, auth} = List.keyfind(before, "authorization", 0)
    assert auth =~ "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"

    after_ = sign(request("POST", "/", "", [], ""), creds, omit_session_token: true)
    {_, auth} = List.keyfind(after_, "authorization", 0)
    assert auth =~ "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    assert {"x-amz-security-token", @sts_token} in after_
  end

  test "the secret key never appears in the signed headers" do
    headers = sign(request("POST", "/", "", [], "{}"))
    refute Enum.any?(headers, fn {_, v} -> v =~ "wJalrXUtnFEMI" end)
    refute inspect(@creds) =~ "wJalrXUtnFEMI"
    refute inspect(@creds) =~ "AKIDEXAMPLE"
  end
end
