#!/usr/bin/env python3
"""Doxygen input filter for alloc's public headers.

The headers document every declaration with ordinary C comments placed right
before it (and member comments after the member), as the style guide asks;
Doxygen only reads its own comment forms. This filter turns those comments
into Doxygen comments, keeping every line where it was so warnings point at
the right line:
  - the first comment of a file becomes the file's documentation (@file);
  - a comment standing on its own line, outside function bodies, documents
    what follows it;
  - a comment after code on the same line documents that member (/**<);
  - section separators (a comment opening with a run of - or =) stay plain;
  - a struct whose comment says its fields are private is shown as opaque;
  - one comment after several declarators (`size_t a, b; /* ... */`)
    documents all of them.
Comments already in Doxygen form are left alone. Comments inside function
bodies and macro bodies are left alone.
Usage (by Doxygen's INPUT_FILTER): doxygen_filter.py FILE
"""
import re
import sys


def convert(text):
    out = []
    i = 0
    n = len(text)
    first_comment = '@file' not in text and '\\file' not in text
    stack = []          # 'func' or 'agg' per open brace
    since = ''          # code since the last ; { } (to tell a body from an aggregate)
    line_start = 0      # index in out-string terms is not needed; track line text
    cur_line = ''       # code seen so far on the current line (no comments)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            body = text[i:j]
            in_func = 'func' in stack
            in_macro = cur_line.rstrip().startswith('#') or (out and ''.join(out[-200:]).rstrip(' \t').endswith('\\\n'))
            if body.startswith('/**@{*/') or body.startswith('/**@}*/'):
                out.append(body)
                i = j
                continue
            already = body.startswith('/**') or body.startswith('/*!')
            separator = re.match(r'/\*\s*[-=]{3,}', body) is not None and text[j:j + 2] == '\n\n'
            if not already and not separator and not in_func and not in_macro and body != '/**/':
                if first_comment and not cur_line.strip():
                    body = '/** @file\n' + body[2:] if body[2:3] == '\n' else '/** @file ' + body[2:]
                    # keep line count: '@file' added on the first line only when it was empty
                    if body.startswith('/** @file\n\n'):
                        body = '/** @file\n' + body[len('/** @file\n\n'):]
                    first_comment = False
                elif cur_line.strip():
                    if not cur_line.rstrip().startswith('#'):
                        body = '/**<' + body[2:]
                else:
                    body = '/**' + body[2:]
            elif already and first_comment:
                first_comment = False
            if not already:
                body = escape_pseudo_tags(body)
            out.append(body)
            i = j
            continue
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
            continue
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            j = min(j + 1, n)
            out.append(text[i:j])
            cur_line += text[i:j]
            since += 'x'
            i = j
            continue
        if c == '{':
            stack.append('func' if ')' in since and '=' not in since else 'agg')
            since = ''
        elif c == '}':
            if stack:
                stack.pop()
            since = ''
        elif c == ';':
            since = ''
        elif c == '#' and not cur_line.strip():
            # preprocessor line: skip to its end (continuations included)
            j = i
            while True:
                k = text.find('\n', j)
                if k < 0:
                    k = n
                    break
                if text[k - 1] == '\\':
                    j = k + 1
                    continue
                break
            # comments on directive lines stay as they are, except the
            # trailing one of a #define, which documents the macro
            seg = text[i:k]
            m = re.match(r'(#\s*define\s+\w+(?:\([^)]*\))?[^\n]*?)(/\*(?![*!]).*\*/)\s*$', seg, re.S)
            if m and '\\\n' not in seg and 'func' not in stack:
                seg = m.group(1) + '/**<' + m.group(2)[2:]
            out.append(seg)
            i = k
            continue
        else:
            since += c
        if c == '\n':
            cur_line = ''
        else:
            cur_line += c
        out.append(c)
        i += 1
    return ''.join(out)


HTML_TAGS = {'b', 'i', 'em', 'code', 'pre', 'tt', 'br', 'p', 'li', 'ul', 'ol', 'sub', 'sup', 'small'}


def escape_pseudo_tags(body):
    """<name> in prose is a placeholder, not an HTML tag."""
    def repl(m):
        return m.group(0) if m.group(1).lower() in HTML_TAGS else '\\<' + m.group(1) + '\\>'
    return re.sub(r'<([A-Za-z_][A-Za-z0-9_.-]*)>', repl, body)


def group_runs(text):
    """A comment followed by several declarations with no blank line between
    (a family of functions, a block of macros) documents all of them: wrap
    the run in a Doxygen member group, whose first doc then applies to every
    member (DISTRIBUTE_GROUP_DOC). Works line by line, adding no lines."""
    lines = text.split('\n')
    first_comment_done = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith('/*') and not re.match(r'/\*\s*[-=]{3,}', line):
            j = i
            while '*/' not in lines[j] and j + 1 < len(lines):
                j += 1
            if not first_comment_done:
                first_comment_done = True
                i = j + 1
                continue
            k = j + 1
            decls = 0
            prev_open = False  # inside a multi-line declaration
            has_brace = False
            last = j
            while k < len(lines) and lines[k].strip() and not lines[k].lstrip().startswith('/*'):
                t = lines[k]
                if '{' in t:
                    has_brace = True
                if t.startswith('#if') or t.startswith('#else') or t.startswith('#endif'):
                    has_brace = True
                if not prev_open and (t[:1].isalpha() or t[:1] == '_' or t.startswith('#define')):
                    decls += 1
                stripped = t.split('/*')[0].rstrip()
                prev_open = stripped.endswith('\\') or not (stripped.endswith(';') or t.startswith('#define'))
                if t.startswith('#define') and stripped.endswith('\\'):
                    prev_open = True
                last = k
                k += 1
            if decls >= 2 and not has_brace:
                lines[i] = '/**@{*/' + lines[i]
                # close on the next line (a #define would swallow a trailing comment)
                if last + 1 < len(lines):
                    lines[last + 1] = '/**@}*/' + lines[last + 1]
                else:
                    lines[last] = lines[last] + '\n/**@}*/'
            i = k
            continue
        i += 1
    return '\n'.join(lines)


def hide_private_fields(text):
    """A struct whose comment says its fields are private (state kept in the
    caller's memory only for sizeof and inline fast paths) is documented as
    opaque: its members are left out of the reference. Adds no lines."""
    lines = text.split('\n')
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith('/*'):
            j = i
            while '*/' not in lines[j] and j + 1 < len(lines):
                j += 1
            comment = ' '.join(lines[i:j + 1]).lower()
            k = j + 1
            if (k < len(lines) and re.match(r'(typedef\s+)?struct\b', lines[k]) and lines[k].rstrip().endswith('{')
                    and re.search(r'\b(fields?|members?)\b[^.]*\bprivate\b', comment)):
                depth = 0
                for m in range(k, len(lines)):
                    code = lines[m].split('/*')[0]
                    depth += code.count('{') - code.count('}')
                    if depth == 0:
                        lines[k] = lines[k] + ' /** @cond ALLOC_PRIVATE */'
                        lines[m] = '/** @endcond */' + lines[m]
                        i = m
                        break
            i = j + 1
            continue
        i += 1
    return '\n'.join(lines)


MULTI_DECL = re.compile(r'^(\s+)([A-Za-z_][^/;{}()#=]*\w\s*,\s*[^;()]*;)\s*/\*(?![*!<])(.*)\*/\s*$')


def multi_declarators(text):
    """`size_t a, b; /* what */` documents both members: Doxygen would give
    the comment to the last one only, so the line becomes a member group
    whose documentation is shared. Adds no lines."""
    out = []
    for line in text.split('\n'):
        m = MULTI_DECL.match(line)
        out.append(m.group(1) + '/**@{*/ /**' + m.group(3) + '*/ ' + m.group(2) + ' /**@}*/' if m else line)
    return '\n'.join(out)


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        text = f.read()
    sys.stdout.write(convert(group_runs(hide_private_fields(multi_declarators(text)))))


if __name__ == '__main__':
    main()
