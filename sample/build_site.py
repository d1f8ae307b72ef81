#!/usr/bin/env python3
"""Builds sample/site/ and the page half of sample/expected.json from sample/content/.

The sample corpus is written once, as small Markdown-like files (content/PLATFORM/SLUG.md),
and rendered here into pages that carry the markup and the furniture of the real platforms:
Medium's head full of og:/twitter: metadata and JSON-LD, its nav, clap bar and "More from"
lists; Substack's post header, subscribe widgets and comment section; LinkedIn's global nav,
feed card and reaction counts. Keeping the prose apart from the chrome means the expected
extraction (title, author, date, first and last body paragraph) is derived from the same
source as the page, so the two cannot drift apart.

The generated files are committed; rerun this script after editing content/ or a template:
    python3 sample/build_site.py
It uses only the standard library and writes the same bytes every time (no clocks, no
randomness), so a rerun without edits leaves git clean.
"""

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent
CONTENT = SAMPLE / "content"
SITE = SAMPLE / "site"

AUTHOR = "Ines Calloway"
HANDLE = "inescalloway"
BIO = ("ML engineer. I write about data pipelines, retrieval, fine-tuning and the "
       "unglamorous parts of MLOps.")
NEWSLETTER = "Gradient Notes"
NEWSLETTER_HOST = "gradientnotes.substack.com"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# What the crawler must find about the repository of the same author (sample/repo, built by
# make_repo.sh). Written by hand: it is the specification scan_repository is tested against.
REPO_EXPECTATIONS = {
    "kept": [
        ".gitignore", "README.md", "chunkwise/__init__.py", "chunkwise/chunk.py",
        "chunkwise/clean.py", "chunkwise/cli.py", "chunkwise/embed.py", "chunkwise/index.py",
        "chunkwise/io.py", "proto/schema.proto", "pyproject.toml", "tests/test_chunk.py", "tests/test_clean.py",
        "tests/test_index.py",
    ],
    "skipped": [
        {"path": "data/corpus_dump.jsonl", "reason": "larger than 256 KiB"},
        {"path": "docs/logo.png", "reason": "binary"},
        {"path": "poetry.lock", "reason": "lock file"},
        {"path": "proto/schema_pb2.py", "reason": "generated"},
        {"path": "static/app.min.js", "reason": "generated"},
        {"path": "vendor/", "reason": "vendored"},
    ],
}


# --- Reading the content files ------------------------------------------------------------

@dataclass
class Block:
    kind: str  # "p", "h", "ul", "pre", "quote", "figure"
    text: str = ""
    items: list = field(default_factory=list)
    caption: str = ""


@dataclass
class Post:
    platform: str
    slug: str
    meta: dict
    blocks: list

    @property
    def path(self):
        return f"{self.platform}/{self.slug}.html"


def read_post(platform, path):
    head, body = path.read_text(encoding="utf-8").split("\n---\n", 1)
    meta = dict(line.split(": ", 1) for line in head.splitlines())
    parse = parse_linkedin if platform == "linkedin" else parse_markdown
    return Post(platform, path.stem, meta, parse(body))


def parse_markdown(body):
    """The subset the articles use: ## headings, - lists, ``` code, > quotes, !figure."""
    blocks = []
    for chunk in split_blocks(body):
        first = chunk.splitlines()[0]
        if chunk.startswith("```"):
            blocks.append(Block("pre", "\n".join(chunk.splitlines()[1:-1])))
        elif first.startswith(("## ", "### ")):
            blocks.append(Block("h", first.split(" ", 1)[1]))
        elif first.startswith("- "):
            blocks.append(Block("ul", items=[line[2:] for line in chunk.splitlines()]))
        elif first.startswith("> "):
            blocks.append(Block("quote", chunk[2:]))
        elif first.startswith("!figure "):
            image, caption = first[len("!figure "):].split(" | ", 1)
            blocks.append(Block("figure", image, caption=caption))
        else:
            blocks.append(Block("p", chunk))
    return blocks


def split_blocks(body):
    """Blank-line separated blocks, except inside ``` fences."""
    blocks, current, fenced = [], [], False
    for line in body.strip("\n").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def parse_linkedin(body):
    """A post is paragraphs separated by blank lines; single newlines are kept as line breaks."""
    return [Block("p", chunk) for chunk in split_blocks(body)]


# --- Inline text: HTML and the plain text an extractor should output ----------------------

INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|(#[A-Za-z][A-Za-z0-9]*)")


def inline_html(text, platform=""):
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(html.escape(text[pos:m.start()], quote=False))
        if m.group(1):
            out.append(f'<code class="qt">{html.escape(m.group(1), quote=False)}</code>')
        elif m.group(2):
            out.append(f"<strong>{html.escape(m.group(2), quote=False)}</strong>")
        elif platform == "linkedin":
            tag = m.group(3)[1:].lower()
            out.append(f'<a href="https://www.linkedin.com/feed/hashtag/{tag}" '
                       f'data-tracking-control-name="public_post_feed-hashtag" '
                       f'class="link">{m.group(3)}</a>')
        else:
            out.append(html.escape(m.group(3), quote=False))
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def plain(text):
    """What a reader sees: markup removed, whitespace collapsed (line breaks kept)."""
    text = INLINE.sub(lambda m: m.group(1) or m.group(2) or m.group(3), text)
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


def collapsed(text):
    return " ".join(plain(text).split())


def paragraphs(post):
    return [b for b in post.blocks if b.kind == "p"]


# --- Shared bits ----------------------------------------------------------------------------

def digest(*parts):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def human_date(iso):
    year, month, day = iso.split("-")
    return f"{MONTHS[int(month) - 1]} {int(day)}, {year}"


def attr(text):
    return html.escape(text, quote=True)


def json_ld(obj):
    return ('<script type="application/ld+json">'
            + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
            + "</script>")


def figure_image(platform, name):
    return f"https://cdn.example.invalid/{platform}/{HANDLE}/{name}"


# --- Medium ---------------------------------------------------------------------------------

def medium_url(post):
    return f"https://medium.com/@{HANDLE}/{post.slug}-{post.meta['id']}"


def medium_head(post):
    m, url = post.meta, medium_url(post)
    iso = f"{m['date']}T{m['time']}.000Z"
    image = f"https://miro.medium.com/v2/resize:fit:1200/1*{digest(post.slug)[:22]}.png"
    month = human_date(m["date"]).split()[0]
    ld = {
        "@context": "http://schema.org", "@type": "NewsArticle", "image": [image], "url": url,
        "dateCreated": iso, "datePublished": iso, "dateModified": iso,
        "headline": m["title"], "name": m["title"], "description": m["subtitle"],
        "identifier": m["id"],
        "author": {"@type": "Person", "name": AUTHOR, "url": f"https://medium.com/@{HANDLE}"},
        "creator": [AUTHOR],
        "publisher": {"@type": "Organization", "name": "Medium", "url": "https://medium.com/",
                      "logo": {"@type": "ImageObject", "width": 272, "height": 60,
                               "url": "https://miro.medium.com/v2/resize:fit:544/7*V1_7XP4snlmqrc_0Njontw.png"}},
        "mainEntityOfPage": url, "isAccessibleForFree": m["member_only"] != "yes",
    }
    metas = [
        ("name", "viewport", "width=device-width,minimum-scale=1,initial-scale=1,maximum-scale=1"),
        ("name", "theme-color", "#000000"),
        ("name", "twitter:app:name:iphone", "Medium"),
        ("name", "twitter:app:id:iphone", "828256236"),
        ("property", "al:ios:app_name", "Medium"),
        ("property", "al:ios:app_store_id", "828256236"),
        ("property", "al:android:package", "com.medium.reader"),
        ("property", "fb:app_id", "542599432471018"),
        ("property", "og:site_name", "Medium"),
        ("property", "og:type", "article"),
        ("property", "article:published_time", iso),
        ("name", "title", f"{m['title']} | by {AUTHOR} | {month}, {m['date'][:4]} | Medium"),
        ("property", "og:title", m["title"]),
        ("property", "al:android:url", f"medium://p/{m['id']}"),
        ("property", "al:ios:url", f"medium://p/{m['id']}"),
        ("property", "al:android:app_name", "Medium"),
        ("name", "description", m["subtitle"]),
        ("property", "og:description", m["subtitle"]),
        ("property", "og:url", url),
        ("property", "al:web:url", url),
        ("property", "og:image", image),
        ("property", "article:author", f"https://medium.com/@{HANDLE}"),
        ("name", "author", AUTHOR),
        ("name", "robots", "index,noarchive,follow,max-image-preview:large"),
        ("name", "referrer", "unsafe-url"),
        ("property", "twitter:title", m["title"]),
        ("name", "twitter:site", "@Medium"),
        ("name", "twitter:creator", f"@{HANDLE}"),
        ("name", "twitter:app:url:iphone", f"medium://p/{m['id']}"),
        ("property", "twitter:description", m["subtitle"]),
        ("name", "twitter:image:src", image),
        ("name", "twitter:card", "summary_large_image"),
        ("name", "twitter:label1", "Reading time"),
        ("name", "twitter:data1", f"{m['read_time']} min read"),
    ]
    lines = ['<meta data-rh="true" charset="utf-8">']
    lines += [f'<meta data-rh="true" {k}="{attr(n)}" content="{attr(v)}">' for k, n, v in metas]
    lines += [
        f'<title>{html.escape(m["title"])} | by {AUTHOR} | Medium</title>',
        '<link data-rh="true" rel="icon" href="https://miro.medium.com/v2/1*m-R_BkNf1Qjr1YbyOIJY2w.png">',
        '<link data-rh="true" rel="search" type="application/opensearchdescription+xml" title="Medium" href="/osd.xml">',
        '<link data-rh="true" rel="apple-touch-icon" sizes="152x152" href="https://miro.medium.com/v2/resize:fill:304:304/10fd5c419ac61637245384e7099e131627900034828f4f386bdaa47a74eae156">',
        f'<link data-rh="true" rel="author" href="https://medium.com/@{HANDLE}">',
        f'<link data-rh="true" rel="canonical" href="{url}">',
        f'<link data-rh="true" rel="alternate" href="android-app://com.medium.reader/https/medium.com/p/{m["id"]}">',
        json_ld(ld),
        "<style>body{margin:0;font-family:sohne,'Helvetica Neue',Helvetica,Arial,sans-serif}"
        ".pw-post-body-paragraph{font-family:source-serif-pro,Georgia,serif;font-size:20px;"
        "line-height:32px;letter-spacing:-.003em}.speechify-ignore{color:#6b6b6b}"
        ".ab{display:flex}.ac{align-items:center}.bm{max-width:680px;margin:0 auto}</style>",
        '<script>window.__BUILD_ID__="main-20240611-181505-0f8b1b6b42";window.__GRAPHQL_URI__="https://medium.com/_/graphql";</script>',
    ]
    return "\n".join(lines)


MEDIUM_NAV = """<div class="l c"><div class="l ck cl cm"><div class="n o cn co cp">
<div class="ab q cq"><a data-testid="headerMediumLogo" href="https://medium.com/?source=post_page---top_nav_layout_nav" aria-label="Homepage"><svg viewBox="0 0 719 160" aria-hidden="true" class="cr"><path d="m174.104 9.734.215-.047V8.02H130.39L89.6 103.89 48.81 8.021H1.472v1.666l.212.047c8.018 1.81 12.09 4.509 12.09 14.242V137.93c0 9.734-4.087 12.433-12.106 14.243l-.212.047v1.671h32.118v-1.665l-.213-.048c-8.018-1.809-12.089-4.509-12.089-14.242V30.586l52.399 123.305h2.972l53.925-126.743V140.75c-.687 7.688-4.721 10.062-11.982 11.701l-.215.05v1.652h55.948v-1.652l-.215-.05c-7.269-1.639-11.4-4.013-12.087-11.701l-.037-116.774h.037c0-9.733 4.071-12.432 12.087-14.242"></path></svg></a>
<div class="ab cs"><div class="ct" role="search"><svg width="24" height="24" fill="none" viewBox="0 0 24 24" aria-label="Search"><path fill="currentColor" fill-rule="evenodd" d="M4.092 11.06a6.95 6.95 0 1 1 13.9 0 6.95 6.95 0 0 1-13.9 0m6.95-8.05a8.05 8.05 0 1 0 5.13 14.26l3.75 3.75a.56.56 0 1 0 .79-.79l-3.73-3.73A8.05 8.05 0 0 0 11.042 3z" clip-rule="evenodd"></path></svg><input role="combobox" aria-controls="search-results" aria-expanded="false" aria-label="search" data-testid="headerSearchInput" tabindex="0" class="cu" placeholder="Search" value=""></div></div></div>
<div class="ab q"><div class="dd"><a data-testid="headerWriteButton" href="https://medium.com/m/signin?operation=register&amp;redirect=https%3A%2F%2Fmedium.com%2Fnew-story&amp;source=---top_nav_layout_nav-----------------------new_post_topnav-----------" rel="noopener follow"><div class="ab q"><svg width="24" height="24" fill="none" viewBox="0 0 24 24" aria-label="Write"><path fill="currentColor" d="M14 4a.5.5 0 0 0 0-1zm7 6a.5.5 0 0 0-1 0zm-7-7H4v1h10zM3 4v16h1V4zm1 17h16v-1H4zm17-1V10h-1v10zm-1 1a1 1 0 0 0 1-1h-1zM3 20a1 1 0 0 0 1 1v-1zM4 3a1 1 0 0 0-1 1h1z"></path></svg><div class="de bf">Write</div></div></a></div>
<div class="df"><span><a class="bf b ah bk dg dh" data-testid="headerSignUpButton" href="https://medium.com/m/signin?operation=register&amp;source=post_page---top_nav_layout_nav-----------------------global_nav-----------" rel="noopener follow">Sign up</a></span></div>
<div class="dk"><span><a class="ah ai aj ak al" data-testid="headerSignInButton" href="https://medium.com/m/signin?operation=login&amp;source=post_page---top_nav_layout_nav-----------------------global_nav-----------" rel="noopener follow">Sign in</a></span></div>
<div class="dl"><img alt="" class="l dm by dn do cx" src="https://miro.medium.com/v2/resize:fill:64:64/1*dmbNkD5D-u45r44go_cf0g.png" width="32" height="32" loading="lazy" role="presentation"></div></div>
</div></div></div>"""


def medium_action_bar(post, position):
    m = post.meta
    return f"""<div class="ab q pi pj"><div class="pw-multi-vote-icon fb ez pk pl pm"><div class="">
<div class="pn po pp pq pr ps pt am pu pv pw pm"><button data-testid="{position}ClapButton" aria-label="clap" class="px pm"><svg width="24" height="24" viewBox="0 0 24 24" aria-label="clap"><path fill-rule="evenodd" d="M11.37.828 12 3.282l.63-2.454zM13.916 3.953l1.523-2.112-1.184-.39zM8.589 1.84l1.522 2.112-.337-2.501zM18.523 18.92c-.86.86-1.75 1.246-2.62 1.33a6 6 0 0 0 .407-.372c2.388-2.389 2.86-4.951 1.399-7.623l-.912-1.603-.79-1.672c-.26-.56-.194-.98.203-1.288a.7.7 0 0 1 .546-.132c.283.046.546.231.728.5l2.363 4.157c.976 1.624 1.141 4.237-1.324 6.702"></path></svg></button></div></div></div>
<div class="pw-multi-vote-count l qa qb qc qd qe qf qg"><p class="bf b dv z du"><span class="pj">{m['claps']}</span></p></div></div>
<div class="bq ab"><div><div class="bm" aria-hidden="false"><button class="ah fb qh qi ab q fg qj qk" aria-label="responses"><svg width="24" height="24" viewBox="0 0 24 24" class="ql"><path d="M18.006 16.803c1.533-1.456 2.234-3.325 2.234-5.321C20.24 7.357 16.709 4 12.191 4S4 7.357 4 11.482c0 4.126 3.674 7.482 8.191 7.482.817 0 1.622-.111 2.393-.327.231.2.48.391.744.559 1.06.693 2.203 1.044 3.399 1.044.224-.008.4-.112.486-.287a.49.49 0 0 0-.042-.518c-.495-.67-.845-1.364-1.04-2.057a4 4 0 0 1-.125-.598z"></path></svg><p class="bf b dv z du"><span class="pw-responses-count qm qn">{m['responses']}</span></p></button></div></div></div>
<div class="ab q"><div class="rn l il"><div><div class="bm" aria-hidden="false"><button aria-controls="addToCatalogBookmarkButton" aria-expanded="false" aria-label="Add to list bookmark button" data-testid="{position}BookmarkButton" class="ah fb ai qo ak al am qp ao ap aq ek qq qr qc qs"><svg width="24" height="24" fill="none" viewBox="0 0 24 24" class="ax"><path fill="#000" d="M17.5 1.25a.5.5 0 0 1 1 0v2.5H21a.5.5 0 0 1 0 1h-2.5v2.5a.5.5 0 0 1-1 0v-2.5H15a.5.5 0 0 1 0-1h2.5zm-11 4.5a1 1 0 0 1 1-1H11a.5.5 0 0 0 0-1H7.5a2 2 0 0 0-2 2v14a.5.5 0 0 0 .8.4l5.7-4.4 5.7 4.4a.5.5 0 0 0 .8-.4v-8.5a.5.5 0 0 0-1 0v7.48l-5.2-4a.5.5 0 0 0-.6 0l-5.2 4z"></path></svg></button></div></div></div>
<div class="fd rp cn"><div class="l ae"><div class="ab cb"><div class="rq rr rs rt ru rv ci bh"><div class="ab"><div class="bm bh" aria-hidden="false"><div><div class="bm" aria-hidden="false"><button aria-label="Listen" data-testid="audioPlayButton" class="ah fb ai qo ak al am qp ao ap aq ek rw rx qk ry rz sa sb sc s sd se sf sg sh si sj u sk sl sm"><div class="m-v"><svg width="24" height="24" fill="none" viewBox="0 0 24 24"><path fill="currentColor" fill-rule="evenodd" d="M3 12a9 9 0 1 1 18 0 9 9 0 0 1-18 0m9-10C6.477 2 2 6.477 2 12s4.477 10 10 10 10-4.477 10-10S17.523 2 12 2m3.376 10.416-4.599 3.066a.5.5 0 0 1-.777-.416V8.934a.5.5 0 0 1 .777-.416l4.599 3.066a.5.5 0 0 1 0 .832" clip-rule="evenodd"></path></svg><div class="j i d"><p class="bf b bg z du">Listen</p></div></div></button></div></div></div></div></div></div></div></div>
<div class="bm" aria-hidden="false" aria-describedby="postFooterSocialMenu" aria-labelledby="postFooterSocialMenu"><div><div class="bm" aria-hidden="false"><button aria-controls="postFooterSocialMenu" aria-expanded="false" aria-label="Share Post" data-testid="{position}SocialShareButton" class="ah fb ai qo ak al am qp ao ap aq ek rw rx qk ry rz sa sb sc s sd se sf sg sh si sj u sk sl sm"><svg width="24" height="24" fill="none" viewBox="0 0 24 24"><path fill="currentColor" fill-rule="evenodd" d="M15.218 4.931a.4.4 0 0 1-.118.132l.012.006a.45.45 0 0 1-.292.074.5.5 0 0 1-.3-.13l-2.02-2.02v7.07c0 .28-.23.5-.5.5s-.5-.22-.5-.5v-7.04l-2 2a.45.45 0 0 1-.57.04h-.02a.4.4 0 0 1-.16-.3.4.4 0 0 1 .1-.32l2.8-2.8a.5.5 0 0 1 .7 0l2.8 2.79a.42.42 0 0 1 .068.498" clip-rule="evenodd"></path></svg><div class="j i d"><p class="bf b bg z du">Share</p></div></button></div></div></div>
</div></div>"""


def medium_byline(post):
    m = post.meta
    return f"""<div class="speechify-ignore ab cp"><div class="speechify-ignore bh l"><div class="ij ik il im in ab">
<div><div class="ab io"><div><div class="bm" aria-hidden="false"><a href="/@{HANDLE}?source=post_page---byline--{m['id']}---------------------------------------" rel="noopener follow"><div class="l ip iq by ir is"><div class="l ed"><img alt="{AUTHOR}" class="l ep by dd de cx" src="https://miro.medium.com/v2/resize:fill:88:88/1*{digest(HANDLE)[:22]}.jpeg" width="44" height="44" loading="lazy" data-testid="authorPhoto"></div></div></a></div></div></div></div>
<div class="bn bh l"><div class="ab"><div style="flex:1"><span class="bf b bg z bk"><div class="it ab q"><div class="ab q iu"><div class="ab q"><div><div class="bm" aria-hidden="false"><p class="bf b iv iw bk"><a class="af ag ah ai aj ak al am an ao ap aq ar ix" data-testid="authorName" href="/@{HANDLE}?source=post_page---byline--{m['id']}---------------------------------------" rel="noopener follow">{AUTHOR}</a></p></div></div></div>
<span class="iy iz" aria-hidden="true"><span class="bf b bg z du">·</span></span><p class="bf b iv iw du"><span><a class="ja jb ah ai aj ak al am an ao ap aq ar ex jc jd" href="https://medium.com/m/signin?actionUrl=https%3A%2F%2Fmedium.com%2F_%2Fsubscribe%2Fuser%2F{m['id']}&amp;operation=register&amp;redirect={attr(medium_url(post))}&amp;user={AUTHOR.replace(' ', '+')}&amp;userId=4a7f2c9e1b3d&amp;source=post_page---byline--{m['id']}---------------------post_header-----------" rel="noopener follow">Follow</a></span></p></div></div></span></div></div>
<div class="l je"><span class="bf b bg z du"><div class="ab cn jf jg jh"><span class="bf b bg z du"><div class="ab ae"><span data-testid="storyReadTime">{m['read_time']} min read</span><div class="ji jj l" aria-hidden="true"><span class="l" aria-hidden="true"><span class="bf b bg z du">·</span></span></div><span data-testid="storyPublishDate">{human_date(m['date'])}</span></div></span></div></span></div></div></div>
{medium_action_bar(post, "header")}
</div></div>"""


def medium_block(block, index):
    node_id = digest(str(index), block.text or block.caption)[:4]
    if block.kind == "p":
        return (f'<p id="{node_id}" class="pw-post-body-paragraph tx ty gt tz b ua ub uc ud ue uf ug '
                f'uh ui uj uk ul um un uo up uq ur us ut uu gm bk" data-selectable-paragraph="">'
                f"{inline_html(block.text)}</p>")
    if block.kind == "h":
        return (f'<h2 id="{node_id}" class="uv uw gt bf ux uy uz va vb vc vd ve vf vg vh vi vj vk '
                f'vl vm vn vo vp vq vr vs bk" data-selectable-paragraph="">'
                f"{inline_html(block.text)}</h2>")
    if block.kind == "ul":
        items = "".join(
            f'<li id="{digest(node_id, item)[:4]}" class="tx ty gt tz b ua ub uc ud ue uf ug uh ui uj '
            f'uk ul um un uo up uq ur us ut uu wb wc wd bk" data-selectable-paragraph="">'
            f"{inline_html(item)}</li>" for item in block.items)
        return f'<ul class="">{items}</ul>'
    if block.kind == "pre":
        return (f'<pre class="wg wh wi wj wk wl wm wn bp wo bb bk"><span id="{node_id}" '
                f'class="wp lz gt wm b ij wq wr l ws wt" data-code-block-mode="1" spellcheck="false" '
                f'data-code-block-lang="python">{html.escape(block.text, quote=False)}</span></pre>')
    if block.kind == "quote":
        return (f'<blockquote class="wu wv ww"><p id="{node_id}" class="tx ty wx tz b ua ub uc ud ue '
                f'uf ug uh ui uj uk ul um un uo up uq ur us ut uu gm bk" data-selectable-paragraph="">'
                f"{inline_html(block.text)}</p></blockquote>")
    if block.kind == "figure":
        src = figure_image("medium", block.text)
        return (f'<figure class="wy wz xa xb xc xd xe xf paragraph-image"><div role="button" tabindex="0" '
                f'class="xg xh ed xi bh xj"><div class="wy wz xk"><picture><source srcset="{src}?w=640 640w, '
                f'{src}?w=1400 1400w" sizes="(min-resolution: 4dppx) and (max-width: 700px) 50vw, 100vw">'
                f'<img alt="" class="bh mh xl c" width="700" height="394" loading="eager" role="presentation" '
                f'src="{src}"></picture></div></div><figcaption class="xm ff xn wy wz xo xp bf b bg z du" '
                f'data-selectable-paragraph="">{inline_html(block.caption)}</figcaption></figure>')
    raise ValueError(block.kind)


def medium_more_from(post, medium_posts):
    others = [p for p in medium_posts if p.slug != post.slug][:2]
    cards = "".join(
        f'<div class="ag ah ai aj"><article class="pj-card"><a href="/@{HANDLE}/{o.slug}-{o.meta["id"]}'
        f'?source=post_page---author_recirc--{post.meta["id"]}----0---------------------" '
        f'rel="noopener follow"><h2 class="bf gt za zb zc zd ze zf zg zh zi bk">{html.escape(o.meta["title"])}'
        f'</h2><div class="zj"><h3 class="bf b iv z ej zk zl zm zn du">{html.escape(o.meta["subtitle"])}'
        f'</h3></div></a><div class="ab q"><span class="bf b bg z du">{human_date(o.meta["date"])}</span>'
        f'<span class="bf b bg z du">{o.meta["claps"]}</span><span class="bf b bg z du">'
        f'{o.meta["responses"]}</span></div></article></div>' for o in others)
    return f"""<div class="ab cb"><div class="ci bh fz ga gb gc"><div class="ab q su">
<div class="pe pf ab"><h2 class="pw-author-name bf sw sx sy sz ta tb tc td te tf tg th ti bk"><a class="af ag ah ai aj" href="/@{HANDLE}?source=post_page---post_author_info--{post.meta['id']}---------------------------------------" rel="noopener follow"><span class="gn">Written by {AUTHOR}</span></a></h2></div>
<div class="tj ab"><span class="pw-follower-count bf b bg z du"><a class="af ag" href="/@{HANDLE}/followers" rel="noopener follow">1.2K Followers</a></span></div>
<div class="tk l"><p class="bf b bg z bk"><span class="bf b bg z bk">{html.escape(BIO)}</span></p></div>
<div class="ab"><a class="tl tm" href="https://medium.com/m/signin?operation=register&amp;source=post_page---post_author_info--{post.meta['id']}---------------------follow_profile-----------" rel="noopener follow">Follow</a></div></div>
<div class="ab q"><h2 class="bf gt ml mm mn mo mp mq mr ms mt bk">More from {AUTHOR}</h2></div>
<div class="ab cb">{cards}</div>
<div class="ab q"><a class="af ag ah" href="/@{HANDLE}?source=post_page---author_recirc--{post.meta['id']}---------------------------------------" rel="noopener follow"><p class="bf b bg z bk">See all from {AUTHOR}</p></a></div>
<div class="ab q"><h2 class="bf gt ml mm mn mo">Recommended from Medium</h2></div>
<div class="ab cb"><div class="ag ah"><article><a href="/@wenlu.dataops/stop-writing-airflow-dags-by-hand-1c9e0a3b7f21?source=read_next_recirc" rel="noopener follow"><h2 class="bf gt za">Stop Writing Airflow DAGs by Hand</h2><h3 class="bf b iv z ej">Generate them from a spec and test the spec instead.</h3></a><span class="bf b bg z du">Wen Lu</span><span class="bf b bg z du">5d ago</span></article></div>
<div class="ag ah"><article><a href="/@rafael.vec/your-embeddings-are-not-normalized-77ab21f0c4e2?source=read_next_recirc" rel="noopener follow"><h2 class="bf gt za">Your Embeddings Are Not Normalized</h2><h3 class="bf b iv z ej">A two-line bug that halved our search quality.</h3></a><span class="bf b bg z du">Rafael Moreno</span><span class="bf b bg z du">Jun 2</span></article></div></div>
<div class="ab q"><a class="af ag ah" href="https://medium.com/?source=post_page---read_next_recirc--{post.meta['id']}---------------------------------------" rel="noopener follow"><p class="bf b bg z bk">See more recommendations</p></a></div>
</div></div>"""


MEDIUM_FOOTER = """<div class="ab cb yj"><div class="ci bh fz ga gb gc"><div class="ab fi"><div class="qz ab ug fd"><p class="bf b iv iw du">
<a class="af ag ah ai aj ak al am an ao ap aq ar as at" href="https://help.medium.com/hc/en-us?source=post_page-----footer" rel="noopener follow">Help</a></p>
<p class="bf b iv iw du"><a class="af ag ah ai aj" href="https://medium.statuspage.io/?source=post_page-----footer" rel="noopener follow">Status</a></p>
<p class="bf b iv iw du"><a class="af ag ah ai aj" href="https://medium.com/about?autoplay=1&amp;source=post_page-----footer" rel="noopener follow">About</a></p>
<p class="bf b iv iw du"><a class="af ag ah ai aj" href="https://medium.com/jobs-at-medium/work-at-medium-959d1a85284e?source=post_page-----footer" rel="noopener follow">Careers</a></p>
<p class="bf b iv iw du"><a class="af ag ah ai aj" href="mailto:pressinquiries@medium.com" rel="noopener follow">Press</a></p>
<p class="bf b iv iw du"><a class="af ag ah ai aj" href="https://blog.medium.com/?source=post_page-----footer" rel="noopener follow">Blog</a></p>
<p class="bf b iv iw du"><a class="af ag ah ai aj" href="https://policy.medium.com/medium-privacy-policy-f03bf92035c9?source=post_page-----footer" rel="noopener follow">Privacy</a></p>
<p class="bf b iv iw du"><a class="af ag ah ai aj" href="https://policy.medium.com/medium-terms-of-service-9db0094a1e0f?source=post_page-----footer" rel="noopener follow">Terms</a></p>
<p class="bf b iv iw du"><a class="af ag ah ai aj" href="https://speechify.com/medium?source=post_page-----footer" rel="noopener follow">Text to speech</a></p>
<p class="bf b iv iw du"><a class="af ag ah ai aj" href="https://medium.com/business?source=post_page-----footer" rel="noopener follow">Teams</a></p>
</div></div></div></div>"""

MEDIUM_COOKIES = """<div class="cookie-policy-banner ab q ep" role="dialog" aria-label="Cookie policy"><div class="ab q"><p class="bf b bg z bk">To make Medium work, we log user data. By using Medium, you agree to our <a class="af ag" href="https://policy.medium.com/medium-privacy-policy-f03bf92035c9" rel="noopener follow">Privacy Policy</a>, including cookie policy.</p><button class="ah ai" aria-label="Close cookie banner">Close</button></div></div>"""


def render_medium(post, medium_posts):
    m = post.meta
    member = ('<div class="ab q jk jl"><div class="ab q"><svg width="16" height="16" fill="none" '
              'viewBox="0 0 64 64"><path fill="#FFC017" d="m39.637 40.831-5.771 15.871a1.99 1.99 0 0 1-3.732 '
              '0l-5.771-15.87a2.02 2.02 0 0 0-1.194-1.195L7.298 33.866a1.99 1.99 0 0 1 0-3.732l15.87-5.771a2.02 '
              '2.02 0 0 0 1.195-1.194l5.771-15.871a1.99 1.99 0 0 1 3.732 0l5.771 15.87a2.02 2.02 0 0 0 1.194 '
              '1.195l15.871 5.771a1.99 1.99 0 0 1 0 3.732l-15.87 5.771a2.02 2.02 0 0 0-1.195 1.194"></path>'
              '</svg><p class="bf b bg z du">Member-only story</p></div></div>'
              if m["member_only"] == "yes" else "")
    body = "\n".join(medium_block(b, i) for i, b in enumerate(post.blocks))
    tags = "".join(
        f'<div class="ue ul"><a href="/tag/{t.lower().replace(" ", "-")}?source=post_page-----'
        f'{m["id"]}---------------------------------------" rel="noopener follow">'
        f'<div class="ut jn cx uv gq uw ux bf b bg z bk uy">{html.escape(t)}</div></a></div>'
        for t in m["tags"].split(", "))
    return f"""<!doctype html><html lang="en"><head>
{medium_head(post)}
</head><body><div id="root"><div class="a b c"><div class="d e f g h i j k">
{MEDIUM_NAV}
<div class="l"><div class="l"><article><div class="l"><div class="l"><span class="l"></span><section><div><div class="gp gq gr gs gt"></div><div class="fm fn fo fp fq"><div class="ab cb"><div class="ci bh fz ga gb gc">
{member}
<div><h1 id="{digest(m['title'])[:4]}" class="pw-post-title gu gv gw bf gx gy gz ha hb hc hd he hf hg hh hi hj hk hl hm hn ho hp hq hr bk" data-testid="storyTitle" data-selectable-paragraph="">{html.escape(m['title'])}</h1></div>
<div><h2 id="{digest(m['subtitle'])[:4]}" class="pw-subtitle-paragraph hs ht hu bf b hv hw hx hy hz ia ib ic id ie if ig ih du" data-selectable-paragraph="">{html.escape(m['subtitle'])}</h2></div>
{medium_byline(post)}
{body}
</div></div></div></div></section></div></div></article></div>
<div class="ab cb"><div class="ci bh fz ga gb gc"><div class="uz ab ko pz">{tags}</div>
{medium_action_bar(post, "footer")}
</div></div>
{medium_more_from(post, medium_posts)}
</div>
{MEDIUM_FOOTER}
</div></div></div>
{MEDIUM_COOKIES}
<script>window.__APOLLO_STATE__ = {{"ROOT_QUERY":{{"__typename":"Query","viewer":null}}}}</script>
<script src="https://cdn-client.medium.com/lite/static/js/manifest.a4b2c81f.js"></script>
</body></html>
"""


# --- Substack -------------------------------------------------------------------------------

def substack_url(post):
    return f"https://{NEWSLETTER_HOST}/p/{post.slug}"


SUBSTACK_SUBSCRIBE_INLINE = f"""<div class="subscription-widget-wrap-editor" data-attrs="{{&quot;url&quot;:&quot;https://{NEWSLETTER_HOST}/subscribe?&quot;,&quot;text&quot;:&quot;Subscribe&quot;,&quot;language&quot;:&quot;en&quot;}}" data-component-name="SubscribeWidgetToDOM"><div class="subscription-widget show-subscribe"><div class="preamble"><p class="cta-caption">Thanks for reading {NEWSLETTER}! Subscribe for free to receive new posts and support my work.</p></div><form class="subscription-widget-subscribe"><input type="email" class="email-input" name="email" placeholder="Type your email…" tabindex="-1"><input type="submit" class="button primary" value="Subscribe"><div class="fake-input-wrapper"><div class="fake-input"></div><div class="fake-button"></div></div></form></div></div>"""


def substack_block(block):
    if block.kind == "p":
        return f"<p>{inline_html(block.text)}</p>"
    if block.kind == "h":
        anchor = re.sub(r"[^a-z0-9]+", "-", block.text.lower()).strip("-")
        return (f'<h3 class="header-anchor-post">{inline_html(block.text)}<div class="pencraft pc-display-flex '
                f'pc-alignItems-center pc-position-absolute pc-reset header-anchor-parent"><div class="pencraft '
                f'pc-display-contents pc-reset pubTheme-yiXxQA"><div id="§{anchor}" class="pencraft pc-reset '
                f'header-anchor offset-top"></div><button tabindex="0" type="button" aria-label="Link" '
                f'data-href="{attr("https://" + NEWSLETTER_HOST)}/p/x#§{anchor}" class="pencraft pc-reset '
                f'pencraft iconButton-mCbymi"><svg xmlns="http://www.w3.org/2000/svg" width="18" height="18" '
                f'viewBox="0 0 24 24" class="lucide lucide-link"><path d="M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 '
                f'0-7.07-7.07l-1.72 1.71"></path></svg></button></div></div></h3>')
    if block.kind == "ul":
        return "<ul>" + "".join(f"<li><p>{inline_html(i)}</p></li>" for i in block.items) + "</ul>"
    if block.kind == "pre":
        return f"<pre><code>{html.escape(block.text, quote=False)}</code></pre>"
    if block.kind == "quote":
        return f"<blockquote><p>{inline_html(block.text)}</p></blockquote>"
    raise ValueError(block.kind)


def substack_post_ufi(post, position):
    m = post.meta
    return f"""<div class="post-ufi style-{position} themed"><div class="like-button-container post-ufi-button style-{position}"><a role="button" aria-label="Like ({m['likes']})" aria-pressed="false" class="post-ufi-button style-{position} with-border has-label"><svg role="img" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke-width="2" stroke="#000" class="lucide lucide-heart"><path d="M19 14c1.49-1.46 3-3.21 3-5.5A5.5 5.5 0 0 0 16.5 3c-1.76 0-3 .5-4.5 2-1.5-1.5-2.74-2-4.5-2A5.5 5.5 0 0 0 2 8.5c0 2.3 1.5 4.05 3 5.5l7 7Z"></path></svg><div class="label">{m['likes']}</div></a></div>
<a role="button" href="{substack_url(post)}/comments" aria-label="View comments ({m['comments']})" class="post-ufi-button style-{position} post-ufi-comment-button has-label with-border"><svg role="img" width="20" height="20" viewBox="0 0 24 24" class="lucide lucide-message-circle"><path d="M7.9 20A9 9 0 1 0 4 16.1L2 22Z"></path></svg><div class="label">{m['comments']}</div></a>
<a role="button" aria-label="Restack ({m['restacks']})" class="post-ufi-button style-{position} has-label with-border"><div class="label">{m['restacks']}</div></a>
<a role="button" href="javascript:void(0)" class="post-ufi-button style-{position} no-icon has-label with-border"><div class="label">Share</div></a></div>"""


def render_substack(post, substack_posts):
    m, url = post.meta, substack_url(post)
    iso = f"{m['date']}T{m['time']}+00:00"
    image = f"https://substackcdn.com/image/fetch/w_1200,h_600,c_fill/{digest(post.slug)[:16]}.png"
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "url": url,
        "mainEntityOfPage": url, "headline": m["title"], "description": m["subtitle"],
        "image": [{"@type": "ImageObject", "url": image}], "datePublished": iso,
        "dateModified": iso, "isAccessibleForFree": True,
        "author": [{"@type": "Person", "name": AUTHOR, "url": f"https://substack.com/@{HANDLE}",
                    "description": BIO, "identifier": "user:48213377"}],
        "publisher": {"@type": "Organization", "name": NEWSLETTER,
                      "url": f"https://{NEWSLETTER_HOST}", "description": "Notes on building ML systems that survive production."},
    }
    blocks = [substack_block(b) for b in post.blocks]
    blocks.insert(3, SUBSTACK_SUBSCRIBE_INLINE)  # where Substack's editor puts the button
    others = "".join([
        f'<div class="post-preview portable-archive-post"><a href="/p/{o.slug}" class="post-preview-title '
        f'newsletter">{html.escape(o.meta["title"])}</a><div class="post-preview-description">'
        f'{html.escape(o.meta["subtitle"])}</div><div class="post-meta">{human_date(o.meta["date"])} • '
        f'{AUTHOR}</div></div>' for o in substack_posts if o.slug != post.slug][:3])
    return f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<meta name="norton-safeweb-site-verification" content="24usqpep0ejc5w6hod3dulxwciwp0djs6c6ufp96av3t4whuxovj72wfkdjxu82yacb7430qjm8adbd5ezlt4592dq4zrvadcn9j9n-0btgdzpiojfzno16-fnsnu7xd">
<link rel="preconnect" href="https://substackcdn.com">
<title data-rh="true">{html.escape(m['title'])} - by {AUTHOR} - {NEWSLETTER}</title>
<meta data-rh="true" name="theme-color" content="#ffffff">
<meta data-rh="true" property="og:type" content="article">
<meta data-rh="true" property="og:title" content="{attr(m['title'])}">
<meta data-rh="true" name="twitter:title" content="{attr(m['title'])}">
<meta data-rh="true" name="description" content="{attr(m['subtitle'])}">
<meta data-rh="true" property="og:description" content="{attr(m['subtitle'])}">
<meta data-rh="true" name="twitter:description" content="{attr(m['subtitle'])}">
<meta data-rh="true" property="og:image" content="{image}">
<meta data-rh="true" name="twitter:image" content="{image}">
<meta data-rh="true" name="twitter:card" content="summary_large_image">
<meta data-rh="true" name="twitter:label1" content="Likes">
<meta data-rh="true" name="twitter:data1" content="{m['likes']}">
<meta data-rh="true" name="twitter:label2" content="Replies">
<meta data-rh="true" name="twitter:data2" content="{m['comments']}">
<meta data-rh="true" name="twitter:label3" content="Restacks">
<meta data-rh="true" name="twitter:data3" content="{m['restacks']}">
<meta name="author" content="{AUTHOR}">
<meta property="og:url" content="{url}">
<link rel="canonical" href="{url}">
<link rel="alternate" type="application/rss+xml" href="https://{NEWSLETTER_HOST}/feed" title="{NEWSLETTER}">
{json_ld(ld)}
<link rel="stylesheet" type="text/css" href="https://substackcdn.com/bundle/theme/main.2b6f0e1c4a.css">
<style>:root{{--web_bg_color:#ffffff;--background_pop:#ff6719;--cover_bg_color:#FFFFFF}}.available-content{{font-size:19px;line-height:1.6}}</style>
</head>
<body class="pc-root">
<div id="entry"><div id="main" class="main typography use-theme-bg">
<div class="main-menu animated"><div class="main-menu-content"><div class="topbar"><div class="topbar-content">
<div class="navbar-logo-container"><a href="/" native="true"><img class="navbar-logo" src="https://substackcdn.com/image/fetch/w_80,h_80/logo.png" alt="{NEWSLETTER}"></a></div>
<h1 class="navbar-title"><a class="navbar-title-link" href="/" native="true">{NEWSLETTER}</a></h1>
<div class="navbar-buttons"><button tabindex="0" type="button" class="pencraft pc-reset button primary subscribe-btn" data-href="/subscribe?">Subscribe</button><button tabindex="0" type="button" class="pencraft pc-reset button sign-in-link">Sign in</button></div>
</div></div></div></div>
<div class="container"><div class="single-post-container"><div class="container"><div class="single-post">
<div class="pencraft pc-display-contents pc-reset pubTheme-yiXxQA"><article class="typography newsletter-post post">
<div class="post-header" role="region" aria-label="Post header">
<h1 dir="auto" class="post-title published title-X77sOw">{html.escape(m['title'])}</h1>
<h3 dir="auto" class="subtitle subtitle-HEEcLo">{html.escape(m['subtitle'])}</h3>
<div class="pencraft pc-display-flex pc-gap-12 pc-paddingTop-16 pc-paddingBottom-16 pc-justifyContent-space-between pc-alignItems-center pc-reset border-top-detail-themed-k9TZAY border-bottom-detail-themed-Ua9186 post-header-byline">
<div class="pencraft pc-display-flex pc-gap-12 pc-alignItems-center pc-reset byline-wrapper"><div class="pencraft pc-display-flex pc-reset"><div class="pencraft pc-display-flex pc-flexDirection-row pc-gap-4 pc-alignItems-center pc-reset"><a href="https://substack.com/@{HANDLE}" aria-label="View {AUTHOR}'s profile" class="pencraft pc-reset"><img src="https://substackcdn.com/image/fetch/w_80,h_80,c_fill/avatar.jpg" width="40" height="40" alt="" class="img-OACg1c"></a></div></div>
<div class="pencraft pc-display-flex pc-flexDirection-column pc-reset"><div class="pencraft pc-reset color-pub-primary-text-NyXPlw line-height-20-t4M0El font-meta-MWBumP size-11-NuY2Zx weight-medium-fw81nC transform-uppercase-yKDgcq reset-IxiVJZ meta-EgzBVA"><span data-state="closed"><a href="https://substack.com/@{HANDLE}" class="pencraft pc-reset decoration-hover-underline-ClDVRM reset-IxiVJZ">{AUTHOR}</a></span></div>
<div class="pencraft pc-display-flex pc-gap-4 pc-reset"><div class="pencraft pc-reset color-pub-secondary-text-hGQ02T line-height-20-t4M0El font-meta-MWBumP size-11-NuY2Zx weight-medium-fw81nC transform-uppercase-yKDgcq reset-IxiVJZ meta-EgzBVA">{human_date(m['date'])}</div></div></div></div>
</div>
{substack_post_ufi(post, "top")}
</div>
<div class="visibility-check"></div>
<div><div class="available-content"><div dir="auto" class="body markup">
{chr(10).join(blocks)}
</div></div></div>
<div class="visibility-check"></div>
<div class="subscription-widget-wrap"><div class="subscription-widget show-subscribe"><div class="preamble"><p class="cta-caption">Subscribe to {NEWSLETTER}</p><p>Launched a year ago</p><p>{html.escape(BIO)}</p></div><form class="subscription-widget-subscribe"><input type="email" class="email-input" name="email" placeholder="Type your email…"><input type="submit" class="button primary" value="Subscribe"></form><div class="subscription-widget-footer">By subscribing, I agree to Substack's Terms of Use and acknowledge its Information Collection Notice and Privacy Policy.</div></div></div>
<div class="post-footer use-separators">{substack_post_ufi(post, "bottom")}</div>
</article></div>
<div id="discussion" class="single-post-section comments-section"><div class="container"><h4 class="comments-heading">Discussion about this post</h4>
<div class="comments-page"><div class="comment-list"><div class="comment"><div class="comment-content"><div class="comment-head"><a class="commenter-name" href="https://substack.com/@tobiasreads">Tobias Wren</a><span class="comment-timestamp">{human_date(m['date'])}</span></div><div class="comment-body"><p>Great write-up, thanks. Would love a follow-up with the code.</p></div><div class="comment-actions"><a class="like-button">Like</a><a class="reply-button">Reply</a><a class="share-button">Share</a></div></div></div></div>
<a class="more-comments" href="{url}/comments">{m['comments']} more comments...</a></div></div></div>
<div class="single-post-section"><div class="container"><h4>Ready for more?</h4><div class="subscribe-footer"><input type="email" placeholder="Type your email…"><button class="button primary">Subscribe</button></div></div></div>
<div class="single-post-section portable-archive"><div class="container"><h4>More from {NEWSLETTER}</h4>{others}</div></div>
</div></div></div></div>
<div class="footer-wrap publication-footer"><div class="footer themed-background"><div class="container"><div class="footer-blurbs"><div class="footer-copyright-blurb">© 2024 {AUTHOR}</div><div class="footer-terms-blurb"><a href="https://{NEWSLETTER_HOST}/privacy" target="_blank">Privacy</a> ∙ <a href="https://substack.com/tos" target="_blank">Terms</a> ∙ <a href="https://substack.com/ccpa#personal-data-collected" target="_blank">Collection notice</a></div></div>
<div class="footer-buttons"><a native="true" href="https://substack.com/signup?utm_source=substack&amp;utm_medium=web&amp;utm_content=footer" class="footer-substack-cta"><svg role="img" width="1000" height="1000" viewBox="0 0 1000 1000" fill="#ff6719" class="substack-logo"><path d="M764.166 348.371H236.319V419.402H764.166V348.371Z"></path></svg><span class="footer-substack-cta-text">Start writing</span></a><a href="https://substack.com/app" class="footer-app-cta">Get the app</a></div>
<div class="footer-slogan-blurb"><a href="https://substack.com">Substack</a> is the home for great culture</div></div></div></div>
</div></div>
<div class="modal out gone share-dialog popup"><div class="modal-table"><div class="modal-row"><div class="modal-cell"><div class="modal-content"><h3 class="share-dialog-title">Share</h3><button class="copy-link">Copy link</button><button>Facebook</button><button>Email</button><button>Notes</button><button>More</button></div></div></div></div></div>
<script>window._preloads = JSON.parse("{{\\"isEU\\":true,\\"language\\":\\"en\\"}}")</script>
<script src="https://substackcdn.com/bundle/static/js/main.7c4f1b9a.js" defer></script>
</body></html>
"""


# --- LinkedIn -------------------------------------------------------------------------------

def linkedin_url(post):
    tags = "-".join(t.lower() for t in re.findall(r"#([A-Za-z0-9]+)", post.blocks[-1].text)[:2])
    return (f"https://www.linkedin.com/posts/{HANDLE}_{tags}-activity-"
            f"{7150000000000000000 + int(digest(post.slug)[:12], 16) % 10**15}-"
            f"{digest(post.slug)[12:16]}")


def linkedin_headline(post):
    return plain(post.blocks[0].text).split("\n")[0]


def linkedin_body_html(post):
    paras = ["<br>".join(inline_html(line, "linkedin") for line in b.text.split("\n"))
             for b in post.blocks]
    return "<br><br>".join(paras)


def render_linkedin(post, linkedin_posts):
    m, url = post.meta, linkedin_url(post)
    text = "\n\n".join(plain(b.text) for b in post.blocks)
    description = " ".join(text.split())[:160]
    og_title = f"{AUTHOR} on LinkedIn: {' '.join(text.split())[:90]}…"
    iso = f"{m['date']}T09:12:00.000Z"
    ld = {
        "@context": "http://schema.org", "@type": "SocialMediaPosting", "@id": url,
        "author": {"@type": "Person", "name": AUTHOR, "url": f"https://www.linkedin.com/in/{HANDLE}",
                   "image": {"@type": "ImageObject", "url": "https://media.licdn.com/dms/image/avatar.jpg"},
                   "interactionStatistic": {"@type": "InteractionCounter", "interactionType": "https://schema.org/FollowAction",
                                            "name": "Follows", "userInteractionCount": 8421}},
        "datePublished": iso, "headline": linkedin_headline(post), "articleBody": text,
        "commentCount": int(m["comments"]),
        "interactionStatistic": [{"@type": "InteractionCounter", "interactionType": "http://schema.org/LikeAction",
                                  "userInteractionCount": int(m["reactions"])},
                                 {"@type": "InteractionCounter", "interactionType": "http://schema.org/CommentAction",
                                  "userInteractionCount": int(m["comments"])}],
    }
    more = "".join([
        f'<li><a class="base-card base-card--link" href="/posts/{o.slug}"><div class="base-main-card__info">'
        f'<p class="base-main-card__description">{html.escape(linkedin_headline(o))}</p>'
        f'<span class="base-main-card__metadata">{o.meta["reactions"]} reactions</span></div></a></li>'
        for o in linkedin_posts if o.slug != post.slug][:3])
    return f"""<!DOCTYPE html>
<html lang="en"><head>
<meta name="pageKey" content="public_post">
<meta name="linkedin:pageTag" content="mwlite">
<meta name="locale" content="en_US">
<meta charset="UTF-8">
<title>{html.escape(og_title)} | {m['comments']} comments</title>
<meta name="description" content="{attr(description)}">
<meta property="og:title" content="{attr(og_title)}">
<meta property="og:description" content="{attr(description)}">
<meta property="og:type" content="article">
<meta property="og:url" content="{url}">
<meta property="og:image" content="https://static.licdn.com/aero-v1/sc/h/c45fy346jw096z9pbphyyhdz7">
<meta property="og:site_name" content="LinkedIn">
<meta name="author" content="{AUTHOR}">
<meta name="twitter:card" content="summary">
<meta name="twitter:site" content="@linkedin">
<meta name="twitter:title" content="{attr(og_title)}">
<meta name="twitter:description" content="{attr(description)}">
<link rel="canonical" href="{url}">
{json_ld(ld)}
<link rel="stylesheet" href="https://static.licdn.com/aero-v1/sc/h/public-post.css">
</head>
<body dir="ltr">
<a href="#main-content" class="skip-link btn-md btn-primary absolute z-11 -top-[100vh] focus:top-0">Skip to main content</a>
<header class="base-layout__header nav-header"><nav class="nav pt-1.5 pb-2 flex items-center justify-between" aria-label="Primary">
<a class="nav__logo-link" href="https://www.linkedin.com/?trk=public_post_nav-header-logo"><span class="sr-only">LinkedIn</span><icon class="block text-color-brand w-[102px] h-[26px]" data-svg-class-name="h-[26px] w-[102px]"></icon></a>
<ul class="top-nav-menu flex items-center"><li><a href="https://www.linkedin.com/pulse/topics/home/?trk=public_post_guest_nav_menu_articles" class="top-nav-link">Articles</a></li><li><a href="https://www.linkedin.com/pub/dir/+/+?trk=public_post_guest_nav_menu_people" class="top-nav-link">People</a></li><li><a href="https://www.linkedin.com/learning/search?trk=public_post_guest_nav_menu_learning" class="top-nav-link">Learning</a></li><li><a href="https://www.linkedin.com/jobs/search?trk=public_post_guest_nav_menu_jobs" class="top-nav-link">Jobs</a></li><li><a href="https://www.linkedin.com/games?trk=public_post_guest_nav_menu_games" class="top-nav-link">Games</a></li></ul>
<div class="nav__cta-container"><a class="nav__button-tertiary btn-md btn-tertiary" href="https://www.linkedin.com/signup/cold-join?trk=public_post_nav-header-join">Join now</a><a class="nav__button-secondary btn-md btn-secondary-emphasis" href="https://www.linkedin.com/login?trk=public_post_nav-header-signin">Sign in</a></div>
</nav></header>
<main id="main-content" class="main papabear:flex" role="main"><section class="core-rail mx-auto papabear:w-core-rail-width mamabear:max-w-[790px]">
<div class="details mx-details-container-padding"><article class="relative pt-1.5 px-2 pb-0 bg-color-background-container container-lined main-feed-activity-card main-feed-activity-card-with-comments feed-shared-update-v2" data-activity-urn="urn:li:activity:{url.rsplit('-', 2)[-2]}" data-featured-activity-urn="urn:li:activity:{url.rsplit('-', 2)[-2]}">
<div class="flex items-center font-sans" data-test-id="main-feed-activity-card__entity-lockup"><a href="https://www.linkedin.com/in/{HANDLE}?trk=public_post_feed-actor-image" data-tracking-control-name="public_post_feed-actor-image"><img class="inline-block relative rounded-[50%] w-6 h-6" data-delayed-url="https://media.licdn.com/dms/image/avatar.jpg" alt="{AUTHOR}"></a>
<div class="flex flex-col self-start"><a class="text-sm link-styled no-underline leading-open" href="https://www.linkedin.com/in/{HANDLE}?trk=public_post_feed-actor-name" data-tracking-control-name="public_post_feed-actor-name">{AUTHOR}</a>
<p class="!text-xs text-color-text-low-emphasis leading-[1.33333] m-0 truncate">ML Engineer · Data pipelines, RAG, fine-tuning</p>
<div class="text-sm text-color-text-low-emphasis"><time class="flex-none">{human_date(m['date'])}</time><span class="sr-only">Edited</span></div></div>
<a class="ml-auto btn-sm btn-secondary-emphasis" href="https://www.linkedin.com/signup/cold-join?trk=public_post_feed-actor-follow">Follow</a></div>
<div class="feed-shared-update-v2__description-wrapper"><div class="feed-shared-update-v2__description feed-shared-inline-show-more-text"><div class="update-components-text relative update-components-update-v2__commentary">
<p class="attributed-text-segment-list__content text-color-text !text-sm break-words" dir="ltr" data-test-id="main-feed-activity-card__commentary">{linkedin_body_html(post)}</p>
</div></div></div>
<div class="flex items-center font-sans text-sm my-1"><a href="{url}?trk=public_post_social-actions-reactions" class="flex items-center font-normal text-color-text-low-emphasis !no-underline visited:text-color-text-low-emphasis my-1" data-test-id="social-actions__reactions" data-num-reactions="{m['reactions']}"><img alt="" src="https://static.licdn.com/aero-v1/sc/h/8ekq8gho1ruaf8i7f86vd1ftt"><span class="font-normal text-sm text-color-text-low-emphasis" data-test-id="social-actions__reaction-count">{m['reactions']}</span></a>
<a href="{url}?trk=public_post_social-actions-comments" class="flex items-center font-normal text-color-text-low-emphasis !no-underline" data-test-id="social-actions__comments" data-num-comments="{m['comments']}">{m['comments']} Comments</a></div>
<div class="flex items-center social-action-bar"><a class="social-action-bar__button" href="https://www.linkedin.com/signup/cold-join?trk=public_post_like-cta"><span>Like</span></a><a class="social-action-bar__button" href="https://www.linkedin.com/signup/cold-join?trk=public_post_comment-cta"><span>Comment</span></a><a class="social-action-bar__button" href="https://www.linkedin.com/signup/cold-join?trk=public_post_share-cta"><span>Share</span></a></div>
<section class="comments"><p class="comments__sign-in-cta">To view or add a comment, <a href="https://www.linkedin.com/login?trk=public_post_feed-cta-banner-cta">sign in</a></p></section>
</article></div>
<section class="mb-3 more-from-author"><h2 class="top-card-layout__title">More from this author</h2><ul class="show-more-less__list">{more}</ul></section>
<section class="right-rail-cta join-cta"><h2>Explore topics</h2><ul><li><a href="https://www.linkedin.com/pulse/topics/sales-s5/">Sales</a></li><li><a href="https://www.linkedin.com/pulse/topics/marketing-s2461/">Marketing</a></li><li><a href="https://www.linkedin.com/pulse/topics/it-services-s57547/">IT Services</a></li><li><a href="https://www.linkedin.com/pulse/topics/business-administration-s50111/">Business Administration</a></li></ul></section>
</section></main>
<footer class="li-footer bg-transparent w-full"><ul class="li-footer__list flex flex-wrap"><li class="li-footer__item">LinkedIn © 2024</li><li class="li-footer__item"><a class="li-footer__item-link" href="https://about.linkedin.com?trk=public_post_footer-about">About</a></li><li class="li-footer__item"><a class="li-footer__item-link" href="https://www.linkedin.com/accessibility?trk=public_post_footer-accessibility">Accessibility</a></li><li class="li-footer__item"><a class="li-footer__item-link" href="https://www.linkedin.com/legal/user-agreement?trk=public_post_footer-user-agreement">User Agreement</a></li><li class="li-footer__item"><a class="li-footer__item-link" href="https://www.linkedin.com/legal/privacy-policy?trk=public_post_footer-privacy-policy">Privacy Policy</a></li><li class="li-footer__item"><a class="li-footer__item-link" href="https://www.linkedin.com/legal/cookie-policy?trk=public_post_footer-cookie-policy">Cookie Policy</a></li><li class="li-footer__item"><a class="li-footer__item-link" href="https://www.linkedin.com/legal/copyright-policy?trk=public_post_footer-copyright-policy">Copyright Policy</a></li><li class="li-footer__item"><a class="li-footer__item-link" href="https://brand.linkedin.com/policies?trk=public_post_footer-brand-policy">Brand Policy</a></li><li class="li-footer__item"><a class="li-footer__item-link" href="https://www.linkedin.com/psettings/guest-controls?trk=public_post_footer-guest-controls">Guest Controls</a></li><li class="li-footer__item"><a class="li-footer__item-link" href="https://www.linkedin.com/legal/professional-community-policies?trk=public_post_footer-community-guide">Community Guidelines</a></li></ul></footer>
<div class="artdeco-global-alert artdeco-global-alert--COOKIE_CONSENT" role="alert"><p class="artdeco-global-alert__message">LinkedIn and 3rd parties use essential and non-essential cookies to provide, secure, analyze and improve our Services, and to show you relevant ads (including professional and job ads) on and off LinkedIn. Learn more in our Cookie Policy.</p><button class="artdeco-global-alert-action">Accept</button><button class="artdeco-global-alert-action">Reject</button></div>
<script src="https://static.licdn.com/aero-v1/sc/h/public-post.js" async></script>
</body></html>
"""


# --- Index, robots, draft, expected.json ----------------------------------------------------

def render_index(posts):
    sections = []
    for platform, heading in (("medium", "Articles on Medium"), ("substack", f"{NEWSLETTER} (Substack)"),
                              ("linkedin", "Posts on LinkedIn")):
        items = "\n".join(
            f'<li><a href="{p.path}">{html.escape(p.meta.get("title") or linkedin_headline(p))}</a> '
            f'<small>{p.meta["date"]}</small></li>' for p in posts if p.platform == platform)
        sections.append(f"<h2>{heading}</h2>\n<ul>\n{items}\n</ul>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{AUTHOR}: writing</title>
<meta name="author" content="{AUTHOR}"></head>
<body><h1>{AUTHOR}</h1>
<p>{html.escape(BIO)} Everything I have published, by platform. My code lives in the chunkwise repository.</p>
{chr(10).join(sections)}
</body></html>
"""


DRAFT = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DRAFT: unpublished notes</title>
<meta name="author" content="{AUTHOR}"><meta name="robots" content="noindex"></head>
<body><article><h1>DRAFT: unpublished notes</h1>
<p>PRIVATE DRAFT. Not for publication. The crawler must never fetch this page, because robots.txt
disallows /private/ and a polite crawler obeys it.</p></article></body></html>
"""

ROBOTS = """# The sample site allows everything except drafts.
User-agent: *
Disallow: /private/
"""


def expectation(post):
    paras = paragraphs(post)
    return {
        "path": post.path,
        "platform": post.platform,
        "title": post.meta.get("title") or linkedin_headline(post),
        "author": AUTHOR,
        "published": post.meta["date"],
        "first_paragraph": plain(paras[0].text),
        "last_paragraph": plain(paras[-1].text),
    }


def main():
    posts = {platform: [read_post(platform, f) for f in sorted((CONTENT / platform).glob("*.md"))]
             for platform in ("medium", "substack", "linkedin")}
    renderers = {"medium": render_medium, "substack": render_substack, "linkedin": render_linkedin}
    for platform, group in posts.items():
        (SITE / platform).mkdir(parents=True, exist_ok=True)
        for post in group:
            (SITE / post.path).write_text(renderers[platform](post, group), encoding="utf-8")
    everything = [p for group in posts.values() for p in group]
    (SITE / "index.html").write_text(render_index(everything), encoding="utf-8")
    (SITE / "robots.txt").write_text(ROBOTS, encoding="utf-8")
    (SITE / "private").mkdir(exist_ok=True)
    (SITE / "private" / "draft.html").write_text(DRAFT, encoding="utf-8")
    expected = {
        "author": AUTHOR,
        "pages": [expectation(p) for p in everything],
        "private_pages": ["private/draft.html"],
        "repo": REPO_EXPECTATIONS,
    }
    (SAMPLE / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(everything)} pages to {SITE}")


if __name__ == "__main__":
    main()
