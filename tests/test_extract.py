"""The quantitative requirement extractor: golden tables from the five documents, look-alikes, properties.

Clause texts are written down in cleaned form (simplified, pinyin removed), with NFKC ASCII punctuation; one test
reads every row again in the cleaner's GB/T 15834 punctuation (`，：（）`), which must give the same requirements. Each golden row is one clause and the whole list of what it yields, as
(span, comparator, value, unit, period, subject, kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policykb.cleaning.punctuation import fold_for_matching, normalise_punctuation
from policykb.extract import COMPARATORS, extract_from_text, extract_requirements, lex, skip_regions
from policykb.records import Clause

ROOT = Path(__file__).resolve().parents[1]


def _rows(text: str) -> list[tuple]:
    return [(r.span, r.comparator, r.value, r.unit, r.period, r.subject, r.kind) for r in extract_from_text(text)]


# Every quantitative requirement of the five documents (41 requirements), plus the statistics of 003.
GOLDEN = [
    # --- 001 上海市: 示范性学区和集团建设三年行动计划 (沪教委基〔2023〕15号)
    ('创建市示范性学区和集团的优质校,每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%,其中在教育教学领域表现突出的骨干教师不低于30%,流动期限不少于3年。', [
        ('不低于符合交流轮岗条件教师总数的20%', '>=', 20.0, '%', '每年', '流入相对薄弱校的教师人数', 'requirement'),
        ('不低于30%', '>=', 30.0, '%', None, '骨干教师', 'requirement'),
        ('不少于3年', '>=', 3.0, '年', None, '流动期限', 'requirement'),
    ]),
    ('面向相对薄弱校,因需实施教师组团流入,流入教师人数不少于3人,开展包班上课、教研引领和项目攻关,帮助流入校建立可持续发展机制。', [
        ('不少于3人', '>=', 3.0, '人', None, '流入教师人数', 'requirement'),
    ]),
    ('将学区、集团内2年交流轮岗工作经历作为提任校级干部的重要因素。', [
        ('2年', '=', 2.0, '年', None, '交流轮岗工作经历', 'requirement'),
    ]),
    ('每学期学区、集团内每校至少有1门共享课程,可共享课程应不低于5门且逐年增加。', [
        ('至少有1门', '>=', 1.0, '门', '每学期', '共享课程', 'requirement'),
        ('不低于5门', '>=', 5.0, '门', None, '可共享课程', 'requirement'),
    ]),
    ('优化教育教学交流平台,分主题、定时间开展集体备课、联合教研、专项研究、教学比武等活动,培育和推广优秀学校案例、模式、经验,其中学区、集团内各学科联合教研每学期不少于5次。', [
        ('不少于5次', '>=', 5.0, '次', '每学期', '学科联合教研', 'requirement'),
    ]),
    ('各区将示范性学区和集团建设成效作为成员校年度考核和各校校长年度绩效考核的重要内容,在校长考评中的占比不低于50%,发挥考核评价的导向、激励和改进功能。', [
        ('不低于50%', '>=', 50.0, '%', None, '校长考评中的占比', 'requirement'),
    ]),
    ('市示范性学区和集团在本市义务教育学业质量监测中,相关科目学生学业水平达到合格及以上比例不低于当年区域平均水平,且同学段校际差异率低于0.15,相对薄弱学校进步明显;', [
        ('低于0.15', '<', 0.15, None, None, '同学段校际差异率', 'requirement'),
    ]),
    ('涉及初中学段的,参与校在确保“应考尽考”的前提下,初中学生学业水平合格率不低于99%,市实验性示范性高中名额分配到校计划完成率达到100%,优质高中阶段学校入学率不低于全市平均水平;', [
        ('不低于99%', '>=', 99.0, '%', None, '初中学生学业水平合格率', 'requirement'),
        ('达到100%', '>=', 100.0, '%', None, '名额分配到校计划完成率', 'requirement'),
    ]),
    ('家长、教师等群体对学区、集团满意度不低于90%。', [
        ('不低于90%', '>=', 90.0, '%', None, '集团满意度', 'requirement'),
    ]),
    ('建立复核机制,3-5年内开展一次复核。', [
        ('3-5年内', 'range', [3.0, 5.0], '年', None, '复核', 'requirement'),
    ]),
    ('命名为市示范性的学区和集团,每年至少在全区范围内有一次高质量的交流展示,2年内至少面向全市有一次高质量的交流展示,并取得较好的交流效果。', [
        ('至少在全区范围内有一次', '>=', 1.0, '次', '每年', '高质量的交流展示', 'requirement'),
        ('至少面向全市有一次', '>=', 1.0, '次', '2年内', '高质量的交流展示', 'requirement'),
    ]),
    ('(四)对命名为市示范性的学区和集团的成员校,减少进校检查,除学校自主申报的项目和依法需要进行的安全等检查外,原则上3年内每学期不超过一次。', [
        ('不超过一次', '<=', 1.0, '次', '每学期', None, 'requirement'),
    ]),
    # --- 000 虹口区: localises Shanghai's plan, with local changes (五层级, 集团 instead of 学区、集团)
    ('将学区、集团内2年交流轮岗工作经历和效果作为提任校级干部的重要因素。', [
        ('2年', '=', 2.0, '年', None, '交流轮岗工作经历和效果', 'requirement'),
    ]),
    ('建设高质量学区和集团的优质校,每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%,其中“五层级”梯队等骨干教师占比不低于30%,流动期限不少于3年。', [
        ('不低于符合交流轮岗条件教师总数的20%', '>=', 20.0, '%', '每年', '流入相对薄弱校的教师人数', 'requirement'),
        ('不低于30%', '>=', 30.0, '%', None, '骨干教师占比', 'requirement'),
        ('不少于3年', '>=', 3.0, '年', None, '流动期限', 'requirement'),
    ]),
    ('因需实施教师组团流入,流入教师人数不少于3人,开展包班上课、教研引领和项目攻关,帮助流入校建立可持续发展机制。', [
        ('不少于3人', '>=', 3.0, '人', None, '流入教师人数', 'requirement'),
    ]),
    ('每学期集团内每校至少有1门共享课程,可共享课程应不低于5门且逐年增加。', [
        ('至少有1门', '>=', 1.0, '门', '每学期', '共享课程', 'requirement'),
        ('不低于5门', '>=', 5.0, '门', None, '可共享课程', 'requirement'),
    ]),
    ('集团内课程开设年级不少于二分之一的学生有共享课程的学习经历。', [
        ('不少于二分之一', '>=', 50.0, '%', None, '学生', 'requirement'),
    ]),
    ('每学期集团内各种形式联合教研不少于5次,确保集团内联合教研的常态化、制度化落地。', [
        ('不少于5次', '>=', 5.0, '次', '每学期', '联合教研', 'requirement'),
    ]),
    ('高质量学区和集团在本市义务教育学业质量监测中,相关科目学生学业水平达到合格及以上比例不低于当年区域平均水平,且同学段校际差异率低于0.15,相对薄弱学校进步明显;', [
        ('低于0.15', '<', 0.15, None, None, '同学段校际差异率', 'requirement'),
    ]),
    ('涉及初中学段的,参与校在确保“应考尽考”的前提下,初中学生学业水平合格率不低于99%,市实验性示范性高中名额分配到校计划完成率达到100%,优质高中阶段学校入学率不低于全市平均水平;', [
        ('不低于99%', '>=', 99.0, '%', None, '初中学生学业水平合格率', 'requirement'),
        ('达到100%', '>=', 100.0, '%', None, '名额分配到校计划完成率', 'requirement'),
    ]),
    ('家长、教师等群体对集团满意度不低于90%。', [
        ('不低于90%', '>=', 90.0, '%', None, '群体对集团满意度', 'requirement'),
    ]),
    ('将学区和集团建设成效作为成员校年度考核和各校校长年度绩效考核的重要内容,在校长考评中的占比不低于50%。', [
        ('不低于50%', '>=', 50.0, '%', None, '校长考评中的占比', 'requirement'),
    ]),
    # --- 002 镇江市
    ('落实绩效工资倾斜政策,对在集团内有两校及以上任教经历的教师,在专业职称晋升上予以优先考虑;', [
        ('两校及以上', '>=', 2.0, '校', None, '任教经历的教师', 'requirement'),
    ]),
    # --- 004 临平区: 优质均衡行动计划
    ('经过3年努力,推进全区义务教育优质均衡发展,创建9所以上省现代化中小学学校,有效落实新名校集团化战略,实现全区薄弱中小学集团化办学全覆盖。', [
        ('9所以上', '>=', 9.0, '所', '3年内', '省现代化中小学学校', 'requirement'),
        ('全覆盖', '=', 100.0, '%', '3年内', '全区薄弱中小学集团化办学', 'requirement'),
    ]),
    ('区教育研究发展学院做好作业改革的专业引领,每学年组织开展以作业为主题的课题和论文评选活动,每学年召开1-2次作业改革现场交流会,组织开展“全区优秀校本作业”设计评比活动,探索建立区级优秀作业资源库,加强优质作业资源共建共享。', [
        ('1-2次', 'range', [1.0, 2.0], '次', '每学年', '作业改革现场交流会', 'requirement'),
    ]),
    ('实施学校素质提升行动,广泛开展校园体艺活动,大力发展校园足球,帮助每位学生学会1至2项体艺技能。', [
        ('1至2项', 'range', [1.0, 2.0], '项', None, '体艺技能', 'requirement'),
    ]),
    ('每学年拓展性课程课时占总课时的比例:一至六年级15%左右,主要以开设体艺特长类和实践活动类课程为主;七到九年级20%左右,要求全面开设三类拓展性课程,其中知识拓展类课程比例不得超过30%,推动我区中小学学校特色课程高水平发展。', [
        ('15%左右', '~', 15.0, '%', '每学年', '拓展性课程课时(一至六年级)', 'requirement'),
        ('20%左右', '~', 20.0, '%', '每学年', '拓展性课程课时(七到九年级)', 'requirement'),
        ('不得超过30%', '<=', 30.0, '%', '每学年', '知识拓展类课程比例', 'requirement'),
    ]),
    ('到2023年,实现教育质量后50%的学校集团化办学(含教共体)全覆盖。', [
        # full coverage in words is 100%; the share before 的 selects the schools covered (issue 13)
        ('全覆盖', '=', 100.0, '%', '到2023年', '学校集团化办学', 'requirement'),
    ]),
    ('三年内建立覆盖各学科的数字教育资源体系,深化中小学“名师公开课”“网上优课”“微课学习资源包”等优质教育资源,在各校严格落实集体备课的基础上,积极探索区级层面学科资源库建设。', [
        ('三年内', '<=', 3.0, '年', None, '数字教育资源体系', 'requirement'),
    ]),
    # --- 003 海淀区: a news article, so its numbers are statistics
    ('海淀区集团化办学进入新阶段,目前海淀区已建立36个教育集团', [
        ('36个', '=', 36.0, '个', None, '教育集团', 'statistic'),
    ]),
    ('海淀区教委发布了海淀区集团化现阶段教育规模及下一步方向,海淀区目前已有36个教育集团,19万余名中小学生在教育集团内就读,海淀区集团化办学将进入新阶段。', [
        ('36个', '=', 36.0, '个', None, '教育集团', 'statistic'),
        ('19万余名', '>', 190000.0, '名', None, '中小学生', 'statistic'),
    ]),
    ('目前,海淀区共建立36个教育集团,涉及140余个校址,涵盖100余所成员校,19万余名中小学生在教育集团内就读。', [
        ('36个', '=', 36.0, '个', None, '教育集团', 'statistic'),
        ('140余个', '>', 140.0, '个', None, '校址', 'statistic'),
        ('100余所', '>', 100.0, '所', None, '成员校', 'statistic'),
        ('19万余名', '>', 190000.0, '名', None, '中小学生', 'statistic'),
    ]),
    ('指标体系包括健全集团管理架构、深化集团课程改革、创新人才培养方式、加强集团教师队伍建设、加强集团文化建设、集团化效果等6个维度,共19项细化指标。', [
        ('6个', '=', 6.0, '个', None, '维度', 'statistic'),
        ('19项', '=', 19.0, '项', None, '细化指标', 'statistic'),
    ]),

]


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_extract_matches_golden_corpus_clause(text: str, expected: list[tuple]) -> None:
    assert _rows(text) == expected


def test_golden_table_holds_forty_one_requirements() -> None:
    assert sum(1 for _, rows in GOLDEN for row in rows if row[-1] == "requirement") == 41


# Ratios: the base is what the percentage is taken of.
BASES = [
    ("每年流入相对薄弱校的教师人数应不低于符合交流轮岗条件教师总数的20%", "符合交流轮岗条件教师总数"),
    ("每校每年培训经费不少于公用经费的5%。", "公用经费"),
    ("每学年拓展性课程课时占总课时的比例:一至六年级15%左右", "总课时"),
    ("交流轮岗教师中骨干教师比例原则上不低于交流总数的20%。", "交流总数"),
    ("其中在教育教学领域表现突出的骨干教师不低于30%", None),
]


@pytest.mark.parametrize(("text", "base"), BASES)
def test_extract_reads_base_of_ratio(text: str, base: str | None) -> None:
    assert [r.base for r in extract_from_text(text)] == [base]


# Held-out style rows: phrasings that do not occur in the five documents.
HELD_OUT = [
    ("专任教师中硕士学历比例达到25%以上。", [
        ("达到25%以上", ">=", 25.0, "%", None, "专任教师中硕士学历比例", "requirement")]),
    ("每校每年培训经费不少于公用经费的5%。", [
        ("不少于公用经费的5%", ">=", 5.0, "%", "每年", "培训经费", "requirement")]),
    ("小学班额不超过45人,初中班额不超过50人。", [
        ("不超过45人", "<=", 45.0, "人", None, "小学班额", "requirement"),
        ("不超过50人", "<=", 50.0, "人", None, "初中班额", "requirement")]),
    ("体育课每周不少于2课时。", [("不少于2课时", ">=", 2.0, "课时", "每周", "体育课", "requirement")]),
    ("3年内实现全覆盖。", [("3年内", "<=", 3.0, "年", None, "全覆盖", "requirement")]),
    ("到2025年,全区集团化办学覆盖率达到90%以上。", [
        ("达到90%以上", ">=", 90.0, "%", "到2025年", "全区集团化办学覆盖率", "requirement")]),
    # 万元 stays the unit as written; 1.5万人 is counted in 人.
    ("每年安排专项经费不少于500万元。", [
        ("不少于500万元", ">=", 500.0, "万元", "每年", "安排专项经费", "requirement")]),
    ("全市共有1.5万人参加培训。", [("1.5万人", "=", 15000.0, "人", None, "全市", "statistic")]),
    ("优质学校比例达到百分之八十,教师满意度提高到三分之二以上。", [
        ("达到百分之八十", ">=", 80.0, "%", None, "优质学校比例", "requirement"),
        ("提高到三分之二以上", ">=", 66.67, "%", None, "教师满意度", "requirement")]),
    ("每所学校每学年组织家长会2次。", [("2次", "=", 2.0, "次", "每学年", "组织家长会", "requirement")]),
    ("学校每天校内锻炼时间1小时以上。", [
        ("1小时以上", ">=", 1.0, "小时", "每天", "学校校内锻炼时间", "requirement")]),
    ("新教师3至5年内成长为骨干教师的比例达七成以上。", [
        ("达七成以上", ">=", 70.0, "%", "3至5年内", "教师成长为骨干教师的比例", "requirement")]),
    ("全区约3万名学生参加。", [("约3万名", "~", 30000.0, "名", None, "学生", "statistic")]),
    ("学区、集团每月开展1次联合教研活动。", [("1次", "=", 1.0, "次", "每月", "联合教研活动", "requirement")]),
    ("每学期组织1~2次集团内教学开放日。", [
        ("1~2次", "range", [1.0, 2.0], "次", "每学期", "集团内教学开放日", "requirement")]),
    ("参与流动的教师在流入校工作时间一般为3-5年。", [
        ("3-5年", "range", [3.0, 5.0], "年", None, "教师在流入校工作时间", "requirement")]),
    ("到2025年,建成7-9个示范性学区。", [
        ("7-9个", "range", [7.0, 9.0], "个", "到2025年", "示范性学区", "requirement")]),
    # a bare number coordinated with a bounded one shares the bound
    ("县域内义务教育学校校际差异系数,小学、初中分别不高于0.50和0.45。", [
        ("不高于0.50", "<=", 0.5, None, None, "初中", "requirement"),
        ("0.45", "<=", 0.45, None, None, "初中", "requirement")]),
    # an explicit bound beats an earlier statistic word; 左右 in a plan is a target
    ("教师每5年累计不少于360学时的培训。", [
        ("不少于360学时", ">=", 360.0, "学时", "每5年", "培训", "requirement")]),
    ("目前已有不少于100所学校加入集团。", [
        ("不少于100所", ">=", 100.0, "所", None, "学校加入集团", "statistic")]),
    ("首批遴选10个左右区域开展试点。", [("10个左右", "~", 10.0, "个", None, "区域", "requirement")]),
    ("集团成员校原则上不超过6所,牵头学校与成员校距离一般在3公里以内。", [
        ("不超过6所", "<=", 6.0, "所", None, "集团成员校", "requirement"),
        ("3公里以内", "<=", 3.0, "公里", None, "牵头学校与成员校距离", "requirement")]),
    ("义务教育学校每班学生数小学不超过45人、初中不超过50人,2025年底前全面消除56人以上大班额。", [
        ("不超过45人", "<=", 45.0, "人", None, "义务教育学校学生数小学", "requirement"),
        ("不超过50人", "<=", 50.0, "人", None, "初中", "requirement"),
        ("56人以上", ">=", 56.0, "人", "2025年底前", "大班额", "requirement")]),
    ("全市已建成紧密型教育集团120个,覆盖学校600余所,惠及学生近50万人。", [
        ("120个", "=", 120.0, "个", None, "全市已建成紧密型教育集团", "statistic"),
        ("600余所", ">", 600.0, "所", None, "覆盖学校", "statistic"),
        ("近50万人", "~", 500000.0, "人", None, "惠及学生", "statistic")]),
    ("近三年来,全区共新建学校12所。", [("12所", "=", 12.0, "所", None, "全区共新建学校", "statistic")]),
    ("海淀区先后出台了两份关于集团化办学的重量级文件", [
        ("两份", "=", 2.0, "份", None, "重量级文件", "statistic")]),
]


# Phrasings of national and provincial policy texts and of education news (written after the public documents'
# common wording, not copied): shares against a base, 满N年, spaced units, thousands separators, statistics,
# forecasts and fixed expressions (issue 11).
REGIONS = [
    ("城镇学校、优质学校每学年教师交流轮岗的比例一般应不低于符合交流条件教师总数的10%,其中骨干教师交流轮岗应不低于交流总数的20%。", [
        ("不低于符合交流条件教师总数的10%", ">=", 10.0, "%", "每学年", "学校教师交流轮岗的比例", "requirement"),
        ("不低于交流总数的20%", ">=", 20.0, "%", None, "骨干教师交流轮岗", "requirement")]),
    ("在同一所学校连续任教满6年的专任教师,原则上应交流轮岗。", [
        ("满6年", ">=", 6.0, "年", None, "专任教师", "requirement")]),
    ("到2025年,全市公办幼儿园在园幼儿占比达到50%以上,普惠性幼儿园覆盖率达到 85 %以上。", [
        ("达到50%以上", ">=", 50.0, "%", "到2025年", "公办幼儿园在园幼儿占比", "requirement"),
        ("达到 85 %以上", ">=", 85.0, "%", "到2025年", "普惠性幼儿园覆盖率", "requirement")]),
    ("教师每五年接受不少于360学时的培训。", [
        ("不少于360学时", ">=", 360.0, "学时", "每五年", "培训", "requirement")]),
    ("学校生均体育运动场馆面积不低于3.5平方米。", [
        ("不低于3.5平方米", ">=", 3.5, "平方米", None, "学校生均体育运动场馆面积", "requirement")]),
    ("骨干教师比例大于等于30%,班额小于等于45人。", [
        ("大于等于30%", ">=", 30.0, "%", None, "骨干教师比例", "requirement"),
        ("小于等于45人", "<=", 45.0, "人", None, "班额", "requirement")]),
    ("覆盖率≥90%。", [("≥90%", ">=", 90.0, "%", None, "覆盖率", "requirement")]),
    ("交流人数应在20和30之间。", [("20和30之间", "range", [20.0, 30.0], None, None, "交流人数", "requirement")]),
    ("每校组建20 - 100个兴趣小组。", [
        ("20 - 100个", "range", [20.0, 100.0], "个", None, "兴趣小组", "requirement")]),
    ("全省普通高中毛入学率达到88.96%7,位居全国前列。", [
        ("达到88.96%", ">=", 88.96, "%", None, "全省普通高中毛入学率", "requirement")]),
    ("学生每天校外体育活动不少于一个半小时。", [
        ("不少于一个半小时", ">=", 1.5, "小时", "每天", "学生校外体育活动", "requirement")]),
    ("教师每学年培训不少于两三次。", [
        ("不少于两三次", "range", [2.0, 3.0], "次", "每学年", "教师培训", "requirement")]),
    ("教育经费不少于1,200万元。", [("不少于1,200万元", ">=", 1200.0, "万元", None, "教育经费", "requirement")]),
    ("截至目前,全市共有中小学校1,286所,在校生超过41万人。", [
        ("1,286所", "=", 1286.0, "所", None, "全市共有中小学校", "statistic"),
        ("超过41万人", ">", 410000.0, "人", None, "校生", "statistic")]),
    ("全市在校生超过41万人。", [("超过41万人", ">", 410000.0, "人", None, "全市在校生", "statistic")]),
    ("全省组建500余个教育集团,惠及学生200多万名。", [
        ("500余个", ">", 500.0, "个", None, "教育集团", "statistic"),
        ("200多万名", ">", 2_000_000.0, "名", None, "惠及学生", "statistic")]),
    ("全区十几万名学生参加。", [("十几万名", ">", 100000.0, "名", None, "学生", "statistic")]),
    # forecasts, fixed expressions and reference points: nothing
    ("预计到2025年,全市学龄人口将达到120万人。", []),
    ("未来3-5年,城乡差距有望缩小。", []),
    ("实施九年义务教育,推进城乡义务教育一体化,破除城乡二元结构。", []),
    ("以6年任教年限为基准,每增加1年加1分。", []),
    ("村两委要加强领导,推进一体化发展,第二批试点学校。", []),
    ("要分三个阶段推进实施。", []),
]


# A plan horizon alone is the plan's span, as written, with what it achieves as its subject (a planner compares
# it as the plan period); before other quantities of its sentence it is their period instead (see GOLDEN, 004).
PLAN_SPANS = [
    ("通过3年努力,在紧密型学区和集团占比进一步提高的基础上,建设一批市示范性学区和集团", [
        ("3年", "=", 3.0, "年", None, "一批市示范性学区和集团", "requirement")]),
    ("通过三年努力,打造一批具有一定影响力、辐射力的特色项目,形成学校品牌。", [
        ("三年", "=", 3.0, "年", None, "特色项目", "requirement")]),
    ("用3年左右的时间逐步提升薄弱学校办学水平,使学生在“家门口”就能享受到公平优质的教育。", [
        ("3年左右", "~", 3.0, "年", None, "提升薄弱学校办学水平", "requirement")]),
    # 宁夏回族自治区教育厅 (tests/compare_pages/ningxia_rotation.txt)
    ("力争用3至5年的时间实现县(区)域内校长教师交流轮岗的制度化、常态化", [
        ("3至5年", "range", [3.0, 5.0], "年", None, "制度化、常态化", "requirement")]),
    # a horizon with a goal of its own does not time the qualification of the next part
    ("力争用3至5年的时间实现交流轮岗的制度化、常态化,教师到农村学校任教1年以上的工作经历,作为申报高一级教师职务的必备条件。", [
        ("3至5年", "range", [3.0, 5.0], "年", None, "交流轮岗的制度化、常态化", "requirement"),
        ("1年以上", ">=", 1.0, "年", None, "工作经历", "requirement")]),
    # ...but one that leads its sentence times what follows
    ("用3年时间,新建和改扩建中小学不少于20所。", [
        ("不少于20所", ">=", 20.0, "所", "3年内", "中小学", "requirement")]),
    ("用3年时间建成不少于10所新优质学校。", [("不少于10所", ">=", 10.0, "所", "3年内", "新优质学校", "requirement")]),
    ("经过五年努力,全面建成覆盖城乡的公共教育服务体系。", [
        ("五年", "=", 5.0, "年", None, "公共教育服务体系", "requirement")]),
    # a span of years that is no horizon stays untagged
    ("近3年来,全区新建学校12所。", [("12所", "=", 12.0, "所", None, "全区新建学校", "statistic")]),
]


@pytest.mark.parametrize(("text", "expected"), PLAN_SPANS)
def test_extract_tags_a_plan_horizon_alone_as_the_plan_span(text: str, expected: list[tuple]) -> None:
    assert _rows(text) == expected


@pytest.mark.parametrize(("text", "expected"), REGIONS)
def test_extract_reads_policy_phrasings_of_other_regions(text: str, expected: list[tuple]) -> None:
    assert _rows(text) == expected


@pytest.mark.parametrize(("text", "expected"), HELD_OUT)
def test_extract_handles_held_out_phrasing(text: str, expected: list[tuple]) -> None:
    assert _rows(text) == expected


# Look-alike numbers from the real corpus: none of these may be tagged at all.
SHOULD_NOT_TAG = [
    # document numbers, dates, index numbers, times (001, 002, 004, 003)
    "沪教委基〔2023〕15号",
    "2023年5月4日",
    "为贯彻落实国家和《省政府关于统筹推进城乡义务教育一体化促进优质均衡发展的若干意见》(苏政发〔2017〕1号),进一步推进我市义务教育优质均衡发展",
    "各地要以《江苏教育现代化指标体系》(苏政办发〔2013〕8号)、《江苏省义务教育学校办学标准》(苏政办发〔2015〕45号)和《义务教育学校管理标准》(教基〔2017〕9号)为指导",
    "信息索引号 | 001008001003013/2023-16274 | 文件编号 | |",
    "成文日期 | 2023-06-07 | 公开时限 | 长期公开 |",
    "来源:区教育局 发布时间: 2023-06-07 11:44 浏览次数:",
    "来源时间为:2019-08-05",
    "2022-07-26 17:56|编辑: 雪儿|阅读: 1063",
    "7月25日下午,海淀区召开中小学教育集团化办学质量评估工作布置及培训会",
    "2022年北京教育全年大事件之七月教育动态",
    "第一阶段为探索创新,快速发展阶段,从2000年左右开始至2018年,以中关村二小承办上地实验小学、五一小学合并永定路一小、二小等为开端",
    "第一阶段是从2000年开始的“探索创新,快速发展”阶段,第二阶段是2019年教育大会开始的“逐步规范,加大支持”阶段",
    # party congresses, five-year plans, plan titles and year ranges (001, 002, 003)
    "为全面贯彻党的二十大精神和市委、市政府有关工作部署,根据《上海市教育发展“十四五”规划》,我委制定了《上海市示范性学区和集团建设三年行动计划(2023-2025年)》。",
    "附件:上海市示范性学区和集团建设三年行动计划(2023-2025年)",
    "制定上海市示范性学区和集团建设三年行动计划(2023-2025年)。",
    "以贯彻落实党的十九大和全国教育大会精神为指导",
    "“十四五”时期,在坚持以首都发展为统领的宏观战略中",
    "第三阶段是“十四五”时期以本次质量评估为起点的“激励导向,培优提质”阶段",
    # programme names and slogans (004, 000)
    "推进中小学学科建设三年行动计划,以“一年三期、滚动三年”为基本思路推进学科建设135行动。",
    "遴选部分名师培养对象参加片区级“三名工作室”“杭州市中小学名师151培养工程”“浙派名师培养工程”",
    "每年遴选部分校长参加区名校长培养班、市中小学名校长525培养工程,切实提升校长办学理念和管理能力。",
    "着力探索党建+队伍建设、党建+教育教学、党建+协同育人等模式",
    "结合义务教育学校建设“新五项标准”的要求,整体规划",
    "通过省市区三级培训和教研员“五个一”能力建设工程,提升教研员专业素养",
    "实施新教师三年培养星计划,强化青年名优教师培养。",
    "各校要制定“优质均衡行动”三年实施规划,校长是第一负责人",
    "研究制订各校优质均衡“一校一策”方案,细化三年总目标和学年分目标,列入学校三年发展规划。",
    "至2023年,实现全区中小学在现有基础上办学条件明显改善,办学品质全面提高",
    # counts of categories and levels, ordinal and idiomatic numerals (000, 004, 003)
    "形成市级培训、区级培训、学区集团培训、校本培训四级教师培训架构。",
    "要求全面开设三类拓展性课程",
    "围绕课程、集备、课堂、作业四大项目建设,做精各类培训项目",
    "通过拓展课程、思维课堂、集体备课、校本作业四个建设项目,提升学校办学质量",
    "《意见》从布局、机制、人事、经费、资源等五方面提出要求。",
    "会议对集团化办学的三个发展阶段进行了梳理。",
    "充分发挥本土地域文化及54项非遗文化资源优势,依托皇国山人工智能基地等优势品牌",
    "发挥九年一贯制学校办学优势,实行统一的学校行政、教育、教学管理",
    "科学做好幼小衔接,落实小学一年级零起点教学。",
    "以优质资源共享、教师有效流动、一体化评价为重要抓手,为进一步促进教育公平打下坚实基础",
    "推出一批在学区和集团走向高质量发展过程中涌现的好学校、好校长和好教师",
    "要建立一个中心,开展一次调研,形成一批成果,落实一校一策。",
    "各校要坚持把立德树人成效作为检验学校一切工作的根本标准,要十分重视",
    "区教育局建立以局长为组长的“优质均衡行动”领导小组",
    "从2019年5月教育大会召开到2022年7月",
    # outline markers, URLs, phone numbers
    "(一)指导思想",
    "1.优化学区和集团结构布局。",
    "文章来源于:http://www.xiangtianlong.com 初恋直播",
    "咨询电话:0571-86231234,工作时间为每周一至周五8:30-17:00。",
    "根据《中华人民共和国教育法》第二十九条规定,制定本办法。",
    "二〇二三年十二月十五日",
    "三是加强队伍建设。第三,完善保障机制。",
]


# A frequency (每年, 每学年, 每学期…) belongs to the quantity it governs: the quantities after it in its own comma
# or semicolon part (up to the next frequency), else the nearest one before it there; a part that is only a lead-in
# (`每学年,…`, `…的比例:A;B`) governs the rest of the sentence. (span, period) of every requirement.
PERIODS = [
    # before its quantity: the next comma part, `其中…` included, is not governed
    ("优质校每年流入薄弱校的教师不低于教师总数的20%,其中骨干教师不低于30%。", [
        ("不低于教师总数的20%", "每年"), ("不低于30%", None)]),
    ("每学期每校至少开设1门共享课程;可共享课程应不低于5门。", [("至少开设1门", "每学期"), ("不低于5门", None)]),
    # after its quantity: the nearest one before it in the same part
    ("集团内各校开展联合教研不少于2次每学年,并建立教研档案。", [("不少于2次", "每学年")]),
    ("各校组织家长会不少于2次每学年,教师培训不少于3次每学期。", [("不少于2次", "每学年"), ("不少于3次", "每学期")]),
    # two frequencies in one sentence: each governs its own part
    ("每学年组织家长会不少于2次,每学期组织教学开放日1~2次。", [("不少于2次", "每学年"), ("1~2次", "每学期")]),
    # a lead-in governs the parts after it, durations excepted
    ("每学年,各校组织家长会不少于2次,教学开放日不少于1次,轮岗期限不少于3年。", [
        ("不少于2次", "每学年"), ("不少于1次", "每学年"), ("不少于3年", None)]),
    ("每学年拓展性课程课时占总课时的比例:一至六年级15%左右;七到九年级20%左右。", [
        ("15%左右", "每学年"), ("20%左右", "每学年")]),
    # a frequency in another sentence governs nothing here
    ("每年开展一次评估。评估合格率不低于90%。", [("不低于90%", None)]),
]


@pytest.mark.parametrize(("text", "expected"), PERIODS)
def test_extract_attaches_a_period_to_the_value_it_governs(text: str, expected: list[tuple]) -> None:
    assert [(r.span, r.period) for r in extract_from_text(text) if r.kind == "requirement"] == expected


@pytest.mark.parametrize(("text", "expected"), GOLDEN + REGIONS + HELD_OUT)
def test_extract_reads_text_written_with_chinese_punctuation_alike(text: str, expected: list[tuple]) -> None:
    """The cleaned text writes `，：（）`; the extractor reads the folded view, so only the spans' marks differ."""
    written = normalise_punctuation(text).text
    assert _rows(written) == [(normalise_punctuation(row[0]).text, *row[1:]) for row in expected]


@pytest.mark.parametrize("text", SHOULD_NOT_TAG)
def test_extract_leaves_look_alike_numbers_alone(text: str) -> None:
    assert extract_from_text(text) == []


# The lexer names the rule that protected a look-alike, so a reader can see why it was skipped.
SKIP_RULES = [
    ("沪教委基〔2023〕15号", "〔2023〕15号", "doc_number"),
    ("党的二十大精神", "二十大", "party_congress"),
    ("“十四五”规划", "“十四五”", "quoted_name"),
    ("教育发展十四五规划", "十四五", "five_year_plan"),
    ("001008001003013/2023-16274", "001008001003013/2023-16274", "index_number"),
    ("三年行动计划", "三年", "plan_title"),
    ("一至六年级", "一至六年级", "grade"),
    ("第一阶段", "第一", "ordinal"),
    ("(2023-2025年)", "2023-2025年", "year_range"),
    ("九年一贯制学校", "九年一贯制", "school_system"),
    ("一校一策", "一校一策", "distributive_idiom"),
]


@pytest.mark.parametrize(("text", "region", "rule"), SKIP_RULES)
def test_lexer_names_the_skip_rule(text: str, region: str, rule: str) -> None:
    found = {(text[x.start:x.end], x.rule) for x in skip_regions(text)}
    assert (region, rule) in found


def test_lexer_splits_glued_number_and_unit() -> None:
    # jieba cuts 创建9所以上省 as 创建/9/所以/上省; the lexer cuts by the number grammar instead.
    text = "创建9所以上省现代化中小学学校"
    assert [(text[x.start:x.end], x.kind) for x in lex(text)] == [
        ("9", "NUM"), ("所", "UNIT"), ("以上", "CMP_POST")]


def test_lexer_keeps_wan_yuan_as_unit() -> None:
    text = "不少于50万元"
    assert [(text[x.start:x.end], x.kind) for x in lex(text)] == [
        ("不少于", "CMP_PRE"), ("50", "NUM"), ("万元", "UNIT")]


def _clause(text: str, role: str = "body", n: int = 1) -> Clause:
    return Clause(clause_id=f"shanghai-2023-15/二.(二).1#{n}", doc_id="shanghai-2023-15", region_id="shanghai",
                  section=["二、主要任务"], text=text, start=0, end=len(text), role=role, ordinal=n)


def test_extract_requirements_fills_clause_fields_and_skips_non_body() -> None:
    body = _clause("流动期限不少于3年。", n=1)
    heading = _clause("(三)流动期限不少于5年", role="heading", n=2)  # would be tagged as body
    signature = _clause("2023年5月4日", role="signature", n=3)
    attachment = _clause("附件:三年行动计划(2023-2025年)", role="attachment", n=4)
    reqs = extract_requirements([heading, body, signature, attachment])
    assert [(r.clause_id, r.doc_id, r.region_id, r.text, r.span, r.span_start, r.span_end) for r in reqs] == [
        ("shanghai-2023-15/二.(二).1#1", "shanghai-2023-15", "shanghai", "流动期限不少于3年。", "不少于3年", 4, 9)]


def test_extract_requirements_of_nothing_is_empty() -> None:
    assert extract_requirements([]) == []


# --- properties ---------------------------------------------------------------------------------------

FRAGMENTS = [
    "不低于", "不少于", "至少", "以上", "及以上", "不超过", "以内", "低于", "高于", "达到", "左右", "约", "余", "多",
    "每年", "每学期", "内", "的", "年", "%", "次", "个", "所", "万", "万元", "分之", "百分之", "至", "-", "~",
    "一", "二", "两", "十", "百", "0", "1", "3", "15", "2023", "0.15", "1.5", ",", "。", ";", ":", "(", ")",
    "“", "”", "《", "》", "〔", "〕", "号", "第", "已", "应", "教师", "学生", "比例", "经历", "年级", " ", "\n",
    "，", "；", "：", "（", "）", "１５", "％",
]
texts = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join),
    st.text(max_size=60),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_extract_properties_hold_on_any_text(text: str) -> None:
    for r in extract_from_text(text):
        assert 0 <= r.span_start < r.span_end <= len(text)
        assert r.span == text[r.span_start:r.span_end]
        assert r.comparator in COMPARATORS
        assert r.kind in ("requirement", "statistic")
        if r.comparator == "range":
            assert isinstance(r.value, list) and len(r.value) == 2 and r.value[0] <= r.value[1]
        else:
            assert isinstance(r.value, float)
    # the written form of the punctuation changes nothing but the marks inside the spans
    folded = [(fold_for_matching(r.span), r.span_start, r.comparator, r.value, r.unit, r.period, r.subject)
              for r in extract_from_text(text)]
    assert folded == [(r.span, r.span_start, r.comparator, r.value, r.unit, r.period, r.subject)
                      for r in extract_from_text(fold_for_matching(text))]


# The real pipeline (loader, cleaner, segmenter) over the five raw files: the requirements, in order, as
# (span, comparator, value, unit, period), 43 with the three plan spans. Skipped only while those stages are missing.
CORPUS = {
    "000": [
        ('2年', '=', 2.0, '年', None),
        ('不低于符合交流轮岗条件教师总数的20%', '>=', 20.0, '%', '每年'),
        ('不低于30%', '>=', 30.0, '%', None),
        ('不少于3年', '>=', 3.0, '年', None),
        ('不少于3人', '>=', 3.0, '人', None),
        ('至少有1门', '>=', 1.0, '门', '每学期'),
        ('不低于5门', '>=', 5.0, '门', None),
        ('不少于二分之一', '>=', 50.0, '%', None),
        ('不少于5次', '>=', 5.0, '次', '每学期'),
        ('低于0.15', '<', 0.15, None, None),
        ('不低于99%', '>=', 99.0, '%', None),
        ('达到100%', '>=', 100.0, '%', None),
        ('不低于90%', '>=', 90.0, '%', None),
        ('不低于50%', '>=', 50.0, '%', None),
    ],
    "001": [
        ('3年', '=', 3.0, '年', None),  # 通过3年努力: the plan's span
        ('不低于符合交流轮岗条件教师总数的20%', '>=', 20.0, '%', '每年'),
        ('不低于30%', '>=', 30.0, '%', None),
        ('不少于3年', '>=', 3.0, '年', None),
        ('不少于3人', '>=', 3.0, '人', None),
        ('2年', '=', 2.0, '年', None),
        ('至少有1门', '>=', 1.0, '门', '每学期'),
        ('不低于5门', '>=', 5.0, '门', None),
        ('不少于5次', '>=', 5.0, '次', '每学期'),
        ('不低于50%', '>=', 50.0, '%', None),
        ('低于0.15', '<', 0.15, None, None),
        ('不低于99%', '>=', 99.0, '%', None),
        ('达到100%', '>=', 100.0, '%', None),
        ('不低于90%', '>=', 90.0, '%', None),
        ('3-5年内', 'range', [3.0, 5.0], '年', None),
        ('至少在全区范围内有一次', '>=', 1.0, '次', '每年'),
        ('至少面向全市有一次', '>=', 1.0, '次', '2年内'),
        ('不超过一次', '<=', 1.0, '次', '每学期'),
    ],
    "002": [
        ('3年左右', '~', 3.0, '年', None),  # 用3年左右的时间: the plan's span
        ('全覆盖', '=', 100.0, '%', None),  # 要…实现区域内所有义务教育阶段学校全覆盖
        ('两校及以上', '>=', 2.0, '校', None),
    ],
    "003": [
    ],
    "004": [
        ('9所以上', '>=', 9.0, '所', '3年内'),
        ('全覆盖', '=', 100.0, '%', '3年内'),  # 经过3年努力,…实现全区薄弱中小学集团化办学全覆盖
        ('1-2次', 'range', [1.0, 2.0], '次', '每学年'),
        ('1至2项', 'range', [1.0, 2.0], '项', None),
        ('15%左右', '~', 15.0, '%', '每学年'),
        ('20%左右', '~', 20.0, '%', '每学年'),
        ('不得超过30%', '<=', 30.0, '%', '每学年'),
        ('三年', '=', 3.0, '年', None),  # 通过三年努力: the plan's span
        ('全覆盖', '=', 100.0, '%', '到2023年'),  # not 后50%的学校: that share selects the schools
        ('三年内', '<=', 3.0, '年', None),
    ],
}


@pytest.mark.parametrize("prefix", sorted(CORPUS))
def test_extract_finds_every_corpus_requirement_through_the_pipeline(prefix: str) -> None:
    pipeline = pytest.importorskip("policykb.pipeline")
    path = next((ROOT / "corpus").glob(f"{prefix}_*.txt"))
    processed = pipeline.process_file(path)
    found = [(r.span, r.comparator, r.value, r.unit, r.period) for r in processed.requirements
             if r.kind == "requirement"]
    assert found == CORPUS[prefix]
    for r in processed.requirements:
        assert r.text[r.span_start:r.span_end] == r.span


@pytest.mark.parametrize(("text", "expected"), [
    # a day range inside a date is a date (哈尔滨 enrolment notice): nothing to tag
    ("今年哈市公办小学将于6月10-20日进行网上报名。", []),
    ("2024年3月1至15日完成报名。", []),
    # 达到 in a sentence that reports (近年来…取得) reaches a fact (呼和浩特 news page)
    ("近年来呼和浩特市基础教育取得长足进步,九年义务教育巩固率提升到100.61%,高中阶段毛入学率达到117.25%。", [
        ("提升到100.61%", ">=", 100.61, "%", None, "九年义务教育巩固率", "statistic"),
        ("达到117.25%", ">=", 117.25, "%", None, "高中阶段毛入学率", "statistic"),
    ]),
    # ... while a modal word or a deadline keeps it a target
    ("到2025年,高中阶段毛入学率达到95%以上。", [
        ("达到95%以上", ">=", 95.0, "%", "到2025年", "高中阶段毛入学率", "requirement"),
    ]),
    ("近年来教育发展迅速,今后应确保高中阶段毛入学率达到95%。", [
        ("达到95%", ">=", 95.0, "%", None, "高中阶段毛入学率", "requirement"),
    ]),
])
def test_dates_with_day_ranges_and_reported_attainments(text: str, expected: list[tuple]) -> None:
    assert _rows(text) == expected


# A distributive 各 (each) or 平均 (on average) ends no subject: "体育活动时间各不少于1小时" measures the activity time.
@pytest.mark.parametrize(
    ("text", "subject"),
    [("确保中小学生每天校内、校外体育活动时间各不少于1小时。", "校外体育活动时间"),
     ("小学其他年级每天书面作业完成时间平均不超过60分钟。", "其他年级书面作业完成时间")],
)
def test_a_distributive_word_ends_no_subject(text: str, subject: str) -> None:
    assert [r.subject for r in extract_from_text(text)] == [subject]


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("确保课后服务全覆盖,每周5天。", [("全覆盖", "=", 100.0, "%", None, "课后服务", "requirement"),
                                     ("5天", "=", 5.0, "天", "每周", None, "requirement")]),
        # a vision and a report set no coverage
        ("描绘全域覆盖、多模共存、优质共生的图景。", []),
        ("全区已实现课后服务全覆盖。", []),
        # a selecting share is no value, whatever follows
        ("力争到2025年,前30%的学生达到优秀。", []),
    ],
)
def test_full_coverage_in_words_and_selecting_shares(text: str, rows: list[tuple]) -> None:
    assert _rows(text) == rows


def test_a_long_digit_string_is_one_number_read_at_once() -> None:
    # An ID, account or serial number of 40 digits: with a digit run that could split into repeated atoms, one
    # failing search of it backtracked through exponentially many splits (30 digits hung the extractor).
    from policykb.numbers import NUMBER_RE

    digits = "9" * 40
    match = NUMBER_RE.search(digits)
    assert match is not None and match.span() == (0, 40)
    assert NUMBER_RE.search(digits, 1) is None  # no number starts inside a digit run (the search that hung)
    assert extract_from_text(f"账号{digits}，联系电话{digits[:11]}") == []
    assert [(r.comparator, r.value, r.unit) for r in extract_from_text(f"编号{digits}的学校骨干教师不低于30%")] == [
        (">=", 30.0, "%")]
