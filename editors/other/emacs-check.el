;;; emacs-check.el --- wikilsp through Emacs's eglot, in batch  -*- lexical-binding: t; -*-

;; Run from the repository root:
;;
;;   emacs --batch -Q -l editors/other/emacs-check.el
;;
;; or through editors/other/test-emacs.sh, which skips cleanly when Emacs or eglot is missing.
;;
;; Environment (all optional):
;;   WIKILSP_SERVER      the server binary; default: target/release/wikilsp of this repository,
;;                       else `wikilsp' on PATH
;;   WIKILSP_TEST_VAULT  a scratch copy of editors/nvim/test/vault; default: this script copies
;;                       the fixture vault to a temporary folder itself
;;
;; Prints `PASS name' or `FAIL name: why' per check and ends with `N passed, M failed'; exits 1
;; when a check failed, 2 when eglot cannot be loaded. Every wait is bounded.
;;
;; Batch Emacs runs no idle timers and no post-command hooks, so two things eglot normally does
;; by itself are done by hand here: sending `didChange' after an edit
;; (`eglot--signal-textDocument/didChange') and starting Flymake (`flymake-start').

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'package)
;; Debian's elpa-eglot / elpa-markdown-mode live in /usr/share/emacs/site-lisp/elpa, which
;; `package-initialize' activates (-Q leaves `package-directory-list' empty, so name it);
;; Emacs 29+ has eglot built in.
(dolist (dir '("/usr/share/emacs/site-lisp/elpa"))
  (when (file-directory-p dir) (add-to-list 'package-directory-list dir)))
(package-initialize)

(defvar wk-passed 0)
(defvar wk-failed 0)

(defun wk-out (fmt &rest args)
  (princ (concat (apply #'format fmt args) "\n")))

(defun wk-finish ()
  (wk-out "%d passed, %d failed" wk-passed wk-failed)
  (ignore-errors (eglot-shutdown-all))
  (kill-emacs (if (> wk-failed 0) 1 0)))

(unless (require 'eglot nil t)
  (wk-out "FAIL setup: eglot is not available (Emacs 29+, or `apt-get install elpa-eglot')")
  (wk-out "0 passed, 1 failed")
  (kill-emacs 2))
(require 'flymake)
(require 'xref)
(defvar wk-have-markdown-mode (require 'markdown-mode nil t))

(defconst wk-here (file-name-directory (or load-file-name buffer-file-name default-directory)))
(defconst wk-repo (expand-file-name "../.." wk-here))

(defun wk-env (name)
  (let ((v (getenv name))) (and v (not (string-empty-p v)) v)))

(defconst wk-server
  (or (wk-env "WIKILSP_SERVER")
      (let ((b (expand-file-name "target/release/wikilsp" wk-repo)))
        (and (file-executable-p b) b))
      (executable-find "wikilsp")))

(defconst wk-vault
  (file-name-as-directory
   (file-truename
    (or (wk-env "WIKILSP_TEST_VAULT")
        (let ((dir (make-temp-file "wikilsp-emacs" t)))
          (copy-directory (expand-file-name "editors/nvim/test/vault" wk-repo)
                          (expand-file-name "vault" dir))
          (expand-file-name "vault" dir))))))

;;; The configuration under test: what editors/README.md tells Emacs users to write.

;; 1. The major mode of notes, and the server for it.
(defvar wk-mode (if wk-have-markdown-mode 'markdown-mode 'text-mode))
(add-to-list 'auto-mode-alist '("\\.md\\'" . markdown-mode))
(unless wk-have-markdown-mode
  (setq auto-mode-alist (cons '("\\.md\\'" . text-mode) auto-mode-alist)))
(add-to-list 'eglot-server-programs
             `((markdown-mode gfm-mode text-mode) . (,(or wk-server "wikilsp"))))

;; 2. The vault is the nearest folder above a note that holds `.wikilsp.toml' (then `.git').
(defun wk-wikilsp-project (dir)
  (when-let ((root (locate-dominating-file dir ".wikilsp.toml")))
    (cons 'transient (expand-file-name root))))
(add-hook 'project-find-functions #'wk-wikilsp-project)

;;; Helpers

(defun wk-wait (secs pred)
  "Poll PRED for up to SECS seconds, letting processes and timers run; return its value."
  (let ((deadline (+ (float-time) secs)) v)
    (while (and (not (setq v (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    v))

(defmacro wk-check (name &rest body)
  "Run BODY; a non-nil result or no error passes, (error ...) fails with its message."
  (declare (indent 1))
  `(condition-case err
       (progn ,@body
              (cl-incf wk-passed)
              (wk-out "PASS %s" ,name))
     (error (cl-incf wk-failed)
            (wk-out "FAIL %s: %s" ,name (error-message-string err)))))

(defun wk-ensure (cond fmt &rest args)
  (unless cond (error "%s" (apply #'format fmt args))))

(defun wk-open (rel)
  "Visit REL in the vault, start eglot there if needed, return the buffer."
  (let ((buf (find-file-noselect (expand-file-name rel wk-vault))))
    (with-current-buffer buf
      (unless (eq major-mode wk-mode) (funcall wk-mode))
      (unless (eglot-current-server)
        (apply #'eglot (eglot--guess-contact)))
      (wk-wait 10 (lambda () (eglot-current-server)))
      (unless eglot--managed-mode
        ;; eglot manages buffers of an existing server when they are visited.
        (eglot--maybe-activate-editing-mode)))
    buf))

(defun wk-goto (needle &optional offset)
  "Move point to the start of NEEDLE (plus OFFSET characters) in the current buffer."
  (goto-char (point-min))
  (wk-ensure (search-forward needle nil t) "text %S not found in %s" needle (buffer-name))
  (goto-char (+ (match-beginning 0) (or offset 0))))

(defun wk-flymake-diags ()
  "The current buffer's Flymake diagnostics, after asking Flymake to run its backends."
  (flymake-start)
  (accept-process-output nil 0.05)
  (flymake-diagnostics))

(defun wk-diag-texts () (mapcar #'flymake-diagnostic-text (wk-flymake-diags)))

(defun wk-rel (file) (file-relative-name (file-truename file) wk-vault))

(defun wk-request (method params)
  (jsonrpc-request (eglot--current-server-or-lose) method params))

(defun wk-xref-definition ()
  "What M-. does: `xref-find-definitions' on the identifier at point, through eglot."
  (let ((xref-prompt-for-identifier nil))
    (xref-find-definitions (xref-backend-identifier-at-point 'eglot))))

(defun wk-line-text ()
  (buffer-substring-no-properties (line-beginning-position) (line-end-position)))

;;; Checks

(wk-out "# Emacs %s, eglot %s, %s, server %s, vault %s"
        emacs-version
        (or (ignore-errors (package-get-version)) ; nil outside package files
            (when-let ((d (cadr (assq 'eglot package-alist))))
              (package-version-join (package-desc-version d)))
            "built-in")
        wk-mode wk-server wk-vault)

(unless (and wk-server (file-executable-p wk-server))
  (wk-out "FAIL setup: no wikilsp binary (build with cargo build --release or set WIKILSP_SERVER)")
  (cl-incf wk-failed)
  (wk-finish))

(defvar wk-basics nil)

(wk-check "connect"
  (setq wk-basics (wk-open "tidepools/tidepool_basics.md"))
  (with-current-buffer wk-basics
    (let ((server (eglot-current-server)))
      (wk-ensure server "eglot did not connect")
      (wk-ensure (equal (file-name-as-directory
                         (file-truename (project-root (eglot--project server))))
                        wk-vault)
                 "workspace root is %s, not the vault %s"
                 (project-root (eglot--project server)) wk-vault)
      (wk-ensure (eglot--server-capable :definitionProvider) "no definitionProvider")
      (wk-ensure (eglot--server-capable :hoverProvider) "no hoverProvider")
      (wk-ensure (eglot--server-capable :completionProvider) "no completionProvider"))))

(wk-check "clean-note-no-diagnostics"
  (with-current-buffer wk-basics
    ;; Diagnostics come after indexing; give them time, then expect none.
    (wk-wait 2 (lambda () (wk-diag-texts)))
    (wk-ensure (null (wk-diag-texts)) "unexpected diagnostics: %S" (wk-diag-texts))))

(wk-check "definition"
  (with-current-buffer wk-basics
    (wk-goto "[[reading_the_tide_tables | Reading" 4)
    ;; The vault may still be indexing: retry the request until it answers.
    (wk-ensure (wk-wait 5 (lambda ()
                            (let ((r (wk-request :textDocument/definition
                                                 (eglot--TextDocumentPositionParams))))
                              (and r (not (seq-empty-p r))))))
               "definition stayed empty")
    (wk-xref-definition)
    (wk-ensure (equal (wk-rel buffer-file-name) "tidepools/reading_the_tide_tables.md")
               "landed in %s" (buffer-name))
    (wk-ensure (= (point) (point-min)) "point is %d, not at the top" (point))))

(wk-check "definition-other-folder"
  (with-current-buffer wk-basics
    (wk-goto "[[lena_voss]]" 3)
    (wk-xref-definition)
    (wk-ensure (equal (wk-rel buffer-file-name) "people/lena_voss.md")
               "landed in %s" (buffer-name))))

(wk-check "definition-heading"
  (with-current-buffer wk-basics
    (wk-goto "[[reading_the_tide_tables#Spring" 30)
    (wk-xref-definition)
    (wk-ensure (equal (wk-rel buffer-file-name) "tidepools/reading_the_tide_tables.md")
               "landed in %s" (buffer-name))
    (wk-ensure (equal (wk-line-text) "## Spring and neap tides")
               "landed on line %d: %S" (line-number-at-pos) (wk-line-text))))

(wk-check "definition-after-emoji"
  ;; Cyrillic and two emoji (two UTF-16 units each) before the link on the same line.
  (with-current-buffer (wk-open "sea_urchins.md")
    (wk-goto "[[reading_the_tide_tables | the tide")
    (let ((r (wk-request :textDocument/definition (eglot--TextDocumentPositionParams))))
      (wk-ensure (and r (not (seq-empty-p r))) "no definition at the link's first `['")
      (let* ((loc (if (vectorp r) (aref r 0) r))
             (uri (or (plist-get loc :targetUri) (plist-get loc :uri))))
        (wk-ensure (string-suffix-p "tidepools/reading_the_tide_tables.md" uri)
                   "definition is %s" uri)))
    ;; One character before the link is text: no definition there.
    (backward-char 1)
    (let ((r (wk-request :textDocument/definition (eglot--TextDocumentPositionParams))))
      (wk-ensure (or (null r) (seq-empty-p r)) "definition one character before the link: %S" r))))

(wk-check "diagnostics-broken-link"
  (with-current-buffer wk-basics
    (goto-char (point-max))
    (insert "\nSee also [[no_such_note]].\n")
    (eglot--signal-textDocument/didChange)
    (let ((d (wk-wait 3 (lambda ()
                          (cl-find-if (lambda (d) (string-match-p "broken-link"
                                                                  (flymake-diagnostic-text d)))
                                      (wk-flymake-diags))))))
      (wk-ensure d "no broken-link diagnostic within 3 s; have %S" (wk-diag-texts))
      (wk-ensure (equal (buffer-substring-no-properties (flymake-diagnostic-beg d)
                                                        (flymake-diagnostic-end d))
                        "no_such_note")
                 "diagnostic covers %S"
                 (buffer-substring-no-properties (flymake-diagnostic-beg d)
                                                 (flymake-diagnostic-end d))))
    ;; Fix the link: the diagnostic goes away.
    (wk-goto "[[no_such_note]]" 2)
    (delete-region (point) (+ (point) (length "no_such_note")))
    (insert "lena_voss")
    (eglot--signal-textDocument/didChange)
    (wk-ensure (wk-wait 3 (lambda () (null (wk-diag-texts))))
               "diagnostics stayed after the fix: %S" (wk-diag-texts))))

(wk-check "diagnostic-range-after-emoji"
  (with-current-buffer (wk-open "sea_urchins.md")
    (goto-char (point-max))
    (insert "\nЁж 🦔🌊 [[missing_урчин]] end\n")
    (eglot--signal-textDocument/didChange)
    (let ((d (wk-wait 3 (lambda ()
                          (cl-find-if (lambda (d) (string-match-p "broken-link"
                                                                  (flymake-diagnostic-text d)))
                                      (wk-flymake-diags))))))
      (wk-ensure d "no broken-link diagnostic within 3 s; have %S" (wk-diag-texts))
      (let ((covered (buffer-substring-no-properties (flymake-diagnostic-beg d)
                                                     (flymake-diagnostic-end d))))
        (wk-ensure (equal covered "missing_урчин") "diagnostic covers %S" covered)))
    (set-buffer-modified-p nil)))

(wk-check "hover"
  (with-current-buffer wk-basics
    (wk-goto "[[reading_the_tide_tables | Reading" 4)
    (let* ((r (wk-request :textDocument/hover (eglot--TextDocumentPositionParams)))
           (contents (plist-get r :contents))
           (text (cond ((stringp contents) contents)
                       ((plist-get contents :value))
                       (t (format "%S" contents))))
           (rendered (eglot--hover-info contents)))
      (wk-ensure (string-match-p "Reading the Tide Tables" text) "hover: %S" text)
      (wk-ensure (string-match-p "watch\\?v=rTt4bLes9Qw" text) "no video link in %S" text)
      (wk-ensure (string-match-p "Reading the Tide Tables" rendered)
                 "eglot's rendering lost the title: %S" rendered))))

(wk-check "completion"
  (with-current-buffer wk-basics
    (goto-char (point-max))
    (insert "\nNext: [[")
    (eglot--signal-textDocument/didChange)
    (let* ((capf (eglot-completion-at-point))
           (table (nth 2 capf))
           (props (nthcdr 3 capf))
           (cands (all-completions "" table))
           ;; The note being edited is not offered for itself: pick another one.
           (pick (cl-find-if (lambda (c) (string-match-p "Reading the Tide Tables" c)) cands)))
      (wk-ensure cands "no completion candidates after [[")
      (wk-ensure pick "no candidate for reading_the_tide_tables among %S" (seq-take cands 10))
      ;; What completion-at-point does when the user picks it: insert the candidate, then
      ;; call the exit function, which applies the item's textEdit.
      (let ((start (point)))
        (insert pick)
        (funcall (plist-get props :exit-function) pick 'finished)
        (let ((line (wk-line-text)))
          (wk-ensure (string-match-p "Next: \\[\\[reading_the_tide_tables\\( | Reading the Tide Tables\\)?\\]\\]$" line)
                     "after picking %S the line is %S (from %d)" pick line start)
          (wk-ensure (not (string-match-p "\\${" line))
                     "snippet syntax inserted although eglot offered no snippet support: %S"
                     line))))
    (set-buffer-modified-p nil)))

(wk-finish)

;;; emacs-check.el ends here
